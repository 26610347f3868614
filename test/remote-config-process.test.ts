import test from "ava";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { adminFetch, startTestServer, until } from "./helpers/server.ts";

/*
 * A real agent process (agent/main.ts with an agent.toml): it gets its checks from the
 * server and caches them; started again while the server is down, it runs the cached set
 * and its log says so.
 */

const root = new URL("..", import.meta.url).pathname;

function spawnAgent(configFile: string) {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "agent/main.ts"), configFile], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (c) => (log += c));
  child.stderr.on("data", (c) => (log += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const messages = () => log.split("\n").filter(Boolean).map((l) => { try { return JSON.parse(l).msg as string; } catch { return l; } });
  return { child, exited, messages, log: () => log };
}

test("an agent process caches the server's checks and runs them from the cache when the server is down at its next start", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-remote-proc-"));
  const target = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  const server = await startTestServer();
  const agents: ReturnType<typeof spawnAgent>[] = [];
  try {
    const port = (target.address() as net.AddressInfo).port;
    t.is((await adminFetch(`${server.http}/v1/checks`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "proc-check", type: "tcp", target: "127.0.0.1", port, interval_secs: 1 }),
    })).status, 201);
    const configFile = path.join(dir, "agent.toml");
    writeFileSync(configFile, [
      `agent_id = "proc-1"`, `server_endpoint = "grpc://${server.grpc}"`, `state_dir = "${dir}/state"`,
      `collection_interval_secs = 0.5`, `log_format = "json"`, `advertise_address = "127.0.0.1:${port}"`,
    ].join("\n"));
    const first = spawnAgent(configFile);
    agents.push(first);
    await until("the server's check running", async () => first.messages().find((m) => m === "checks: running 1 server-managed checks (from the server)"), 60_000, async () => first.log());
    t.true(existsSync(path.join(dir, "state", "remote-config.json")));
    first.child.kill("SIGTERM");
    t.is(await first.exited, 0);
    await server.stop();

    const second = spawnAgent(configFile);
    agents.push(second);
    await until("the cached check running", async () => second.messages().find((m) => m === "checks: running 1 cached server-managed checks (server unreachable)"), 60_000, async () => second.log());
    await until("the cached check started", async () => second.messages().find((m) => m === "checks started"), 10_000, async () => second.log());
    second.child.kill("SIGTERM");
    t.is(await second.exited, 0);
  } finally {
    for (const a of agents) if (a.child.exitCode === null) a.child.kill("SIGKILL");
    await server.stop().catch(() => undefined);
    await new Promise((r) => target.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});
