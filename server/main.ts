import { parseArgs } from "node:util";
import { ConfigError, loadServerConfig } from "./config/load.ts";
import { PortError, portsInUse } from "./config/ports.ts";
import { ALLOCATOR_ENV, missingAllocatorEnv, runsInPm2Cluster } from "./config/process-env.ts";
import { resetPassword } from "./auth/reset-password.ts";
import { createLogger } from "./log.ts";
import { ControlStore } from "./storage/control-store.ts";
import { startServer } from "./server.ts";
import { VERSION } from "./version.ts";

const USAGE = `usage: tsmon-server [CONFIG]
       tsmon-server --reset-password USER [CONFIG]
       tsmon-server --version | --help

Runs the tsmon server. CONFIG is a TOML file (see config/server.example.toml);
without it the embedded defaults apply: gRPC on :9090, HTTP on :8080, data in ./data.

--reset-password USER sets a new generated password for an existing USER in CONFIG's
data dir (or creates USER as the admin when there are no users), ends USER's sessions,
lifts USER's login locks, prints the password and exits. It works while servers run.`;

/** A command-line mistake is the usage and exit 2, never a stack trace. */
function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "V" }, "reset-password": { type: "string" } },
    });
  } catch (err) {
    process.stderr.write(`tsmon-server: ${(err as Error).message.split(". ")[0]}\n\n${USAGE}\n`);
    process.exit(2);
  }
}

const { positionals, values } = parseCommandLine();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values.version) {
  console.log(`tsmon-server ${VERSION}`);
  process.exit(0);
}
if (positionals.length > 1) {
  process.stderr.write(`tsmon-server: expected at most one CONFIG file, got ${positionals.length}: ${positionals.join(" ")}\n\n${USAGE}\n`);
  process.exit(2);
}

/** A configuration problem ends start-up with its message and exit code 2; anything else is a bug and keeps its stack. */
function refuseToStart(err: unknown): never {
  if (err instanceof PortError) {
    const variable = `TSMON_${err.message.split(":")[0]!.toUpperCase()}`;
    console.error(`tsmon-server did not start: ${err.message}${positionals[0] ? ` (config: ${positionals[0]})` : ` (set it in a CONFIG file or as ${variable})`}`);
    process.exit(2);
  }
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  console.error("tsmon-server did not start: fix the configuration above.");
  process.exit(2);
}

let config;
try {
  config = loadServerConfig(positionals[0]);
} catch (err) {
  refuseToStart(err);
}

if (values["reset-password"] !== undefined) {
  const control = new ControlStore(config.data_dir);
  const username = values["reset-password"];
  const result = await resetPassword(control, username).catch((err: Error) => err);
  await control.close();
  if (result instanceof Error) {
    console.error(`tsmon-server --reset-password: ${result.message}`);
    process.exit(2);
  }
  const { password, created } = result;
  console.log(`${created ? "created admin" : "reset the password of"} '${username}' in ${config.data_dir}; its sessions have ended.\nnew password (shown only now): ${password}`);
  process.exit(0);
}

// Before the data dir or the first admin: a busy port is then the only thing said. PM2
// cluster instances share their ports, so there a probe would find its siblings.
if (!runsInPm2Cluster()) {
  const busy = await portsInUse(config);
  if (busy) refuseToStart(busy);
}

const log = createLogger(config.log_level, "tsmon-server", config.log_format);
// Not re-executed with them: a process cannot replace itself in Node 20, so that would keep
// a second one (≈ 40 MB, +0.1 s) between the service manager and the server.
const missingEnv = missingAllocatorEnv();
if (missingEnv.length > 0) {
  log.info({ missing: missingEnv }, `started without ${missingEnv.join(", ")}: memory freed after a burst of large reports is kept for reuse ` +
    `rather than returned to the system; start with ${Object.entries(ALLOCATOR_ENV).map(([k, v]) => `${k}=${v}`).join(" ")} (the shipped launchers do)`);
}
const server = await startServer(config, { log }).catch(refuseToStart);
// The log names what is really bound; the URL is one a browser on this host can open.
const everywhere = config.bind_address === "0.0.0.0" || config.bind_address === "::";
const host = everywhere ? "127.0.0.1" : config.bind_address;
const scheme = config.tls.enabled ? "https" : "http";
log.info({ bind: config.bind_address, grpcPort: server.grpcPort, httpPort: server.httpPort, dataDir: config.data_dir },
  `tsmon server ready: listening on ${config.bind_address} (${everywhere ? "every interface" : "this address only"}) — ` +
  `API ${scheme}://${host}:${server.httpPort}/v1, gRPC ${host}:${server.grpcPort}`);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: draining in-flight reports");
    server.close().then(
      () => { log.info("stopped"); process.exit(0); },
      (err: unknown) => { log.error({ err }, "unclean shutdown"); process.exit(1); },
    );
  });
}
