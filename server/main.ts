import { parseArgs } from "node:util";
import { ConfigError, loadServerConfig } from "./config/load.ts";
import { createLogger } from "./log.ts";
import { startServer } from "./server.ts";

const USAGE = `usage: tsmon-server [CONFIG]

Runs the tsmon server. CONFIG is a TOML file (see config/server.example.toml);
without it the embedded defaults apply: gRPC on :9090, HTTP on :8080, data in ./data.`;

const { positionals, values } = parseArgs({ allowPositionals: true, options: { help: { type: "boolean", short: "h" } } });
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

let config;
try {
  config = loadServerConfig(positionals[0]);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  console.error("tsmon-server did not start: fix the configuration above.");
  process.exit(2);
}

const log = createLogger(config.log_level);
const server = await startServer(config, { log });
const host = config.bind_address === "0.0.0.0" ? "127.0.0.1" : config.bind_address;
const scheme = config.tls.enabled ? "https" : "http";
log.info({ grpcPort: server.grpcPort, httpPort: server.httpPort, dataDir: config.data_dir },
  `tsmon server ready: API ${scheme}://${host}:${server.httpPort}/v1, gRPC ${host}:${server.grpcPort}`);

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
