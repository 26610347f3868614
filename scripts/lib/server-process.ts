import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./ports.ts";
import { testAuthToml } from "./test-credentials.ts";

const root = new URL("../..", import.meta.url).pathname;

export interface ServerProcess {
  child: ChildProcess;
  http: string;
  grpc: string;
  output: () => string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

export interface ConfigOptions {
  /** TOML appended to the generated fields (e.g. an `[actors]` table). */
  extra?: string;
  /** Reuse these ports (a restart); fresh ones otherwise. */
  ports?: { grpc: number; http: number };
  logLevel?: string;
  /** Default `<dir>/data`; give the same one to several configs to share storage. */
  dataDir?: string;
  fileName?: string;
  /** Write the test credentials' `[auth]` table (default true; false when `extra` has its own). */
  testAuth?: boolean;
}

/** Writes a server config into `dir` with loopback ports. */
export async function writeServerConfig(dir: string, options: ConfigOptions = {}) {
  const grpc = options.ports?.grpc ?? await freePort();
  const http = options.ports?.http ?? await freePort();
  const file = path.join(dir, options.fileName ?? "server.toml");
  const dataDir = options.dataDir ?? path.join(dir, "data");
  writeFileSync(file, `grpc_port = ${grpc}\nhttp_port = ${http}\nbind_address = "127.0.0.1"\ndata_dir = "${dataDir}"\n` +
    `log_level = "${options.logLevel ?? "info"}"\n${options.extra ?? ""}\n` +
    (options.testAuth === false ? "" : testAuthToml));
  return { file, ports: { grpc, http } };
}

/** Starts `server/main.ts CONFIG` as its own process (with `env` over this one's: undefined unsets) and waits until /v1/health answers. */
export async function spawnServer(configFile: string, ports: { grpc: number; http: number }, env: Record<string, string | undefined> = {}): Promise<ServerProcess> {
  // TSMON_SERVER_NODE_ARGS adds Node flags to the server only (e.g. --cpu-prof for a benchmark).
  const extra = process.env.TSMON_SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...extra, "--import", "tsx", path.join(root, "server/main.ts"), configFile], { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => {
    // A server killed with SIGKILL leaves its live-relay socket behind (server/live/relay.ts names it by pid).
    for (const name of readdirSync(tmpdir())) {
      if (name.startsWith("tsmon-live-") && name.endsWith(`-${child.pid}.sock`)) rmSync(path.join(tmpdir(), name), { force: true });
    }
    resolve(code);
  }));
  const http = `http://127.0.0.1:${ports.http}`;
  // Generous: on a loaded 2-core CI machine, compiling the server through tsx alone can take 20 s.
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited during start-up:\n${out}`);
    const ok = await fetch(`${http}/v1/health`).then((r) => r.ok, () => false);
    if (ok) return { child, http, grpc: `127.0.0.1:${ports.grpc}`, output: () => out, exited };
    await sleep(100);
  }
  child.kill("SIGKILL");
  throw new Error(`server did not become ready:\n${out}`);
}
