import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadServerConfig } from "../server/config/load.ts";
import { portsInUse } from "../server/config/ports.ts";
import { ALLOCATOR_ENV } from "../server/config/process-env.ts";
import { buildWeb, webBundleStale } from "./build-web.ts";

/*
 * `npm start [CONFIG]`: the whole system on one machine with no other service — a server
 * on its embedded defaults (gRPC :9090, HTTP :8080, data in ./data) or CONFIG, and a local
 * agent reporting to it. Ctrl-C stops both; if either exits, the other is stopped too.
 */
const root = fileURLToPath(new URL("..", import.meta.url));
const tsx = ["--import", "tsx"];
const children: ChildProcess[] = [];

function start(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(process.execPath, [...tsx, ...args], { cwd: root, stdio: "inherit", env });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[tsmon] ${name} exited (${signal ?? code}); stopping the rest`);
      stop(code ?? 1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code: number): void {
  stopping = true;
  let alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
  if (alive.length === 0) process.exit(code);
  for (const c of alive) {
    c.once("exit", () => {
      alive = alive.filter((x) => x !== c);
      if (alive.length === 0) process.exit(code);
    });
    c.kill("SIGTERM");
  }
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

const configFile = process.argv[2];
let config;
try {
  config = loadServerConfig(configFile);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}
// Before anything starts: a busy port would otherwise leave the local agent reporting to
// whichever server holds it.
const busy = await portsInUse(config);
if (busy) {
  console.error(`[tsmon] not starting: ${busy.message} (config: ${configFile ?? "embedded defaults; pass a CONFIG file to change it"})`);
  process.exit(2);
}
const host = config.bind_address === "0.0.0.0" || config.bind_address === "::" ? "127.0.0.1" : config.bind_address;
// The dashboard is served from web/dist: build it first when a source is newer.
if (webBundleStale()) {
  try {
    await buildWeb();
    console.log("[tsmon] dashboard built (web/dist)");
  } catch (err) {
    console.error(`[tsmon] the dashboard could not be built (${(err as Error).message}); the API works without it`);
  }
}
// The malloc settings as the shipped launchers set them (glibc reads them at process start);
// the caller's own values win.
start("server", ["server/main.ts", ...(configFile ? [configFile] : [])], { ...ALLOCATOR_ENV, ...process.env });

// Nothing is said to run, and no agent starts, until the server answers (it exits on its
// own if it cannot start; on a slow machine that can take a while).
const api = `${config.tls.enabled ? "https" : "http"}://${host}:${config.http_port}`;
const waitStarted = Date.now();
let nextNote = 15_000;
while (!(await fetch(`${api}/v1/health`).then((r) => r.ok, () => false))) {
  if (stopping) await new Promise(() => {}); // the server exited: stop() is ending this process
  if (Date.now() - waitStarted > nextNote) {
    console.error(`[tsmon] still waiting for the server to answer at ${api}/v1/health (${Math.round(nextNote / 1000)} s)`);
    nextNote += 15_000;
  }
  await new Promise((r) => setTimeout(r, 100));
}
// The agent's spool beside the server's data: `npm start` keeps everything in one place.
start("agent", ["agent/main.ts", "--server-url", `${host}:${config.grpc_port}`, "--spool-dir", path.resolve(config.data_dir, "agent-spool"), ...(config.tls.enabled ? ["--tls"] : [])]);
console.log(`\n[tsmon] running: dashboard ${api}/ — API ${api}/v1/agents (Ctrl-C stops)\n`);
