import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { startAgent, type AgentHandle } from "../agent/agent.ts";
import { buildAgentConfig } from "../agent/config.ts";
import { spawnServer, writeServerConfig, type ServerProcess } from "../scripts/lib/server-process.ts";
import { adminFetch, until } from "./helpers/server.ts";

/*
 * Two server processes on one data dir, as two PM2 instances are: a check created through
 * one instance's API reaches an agent connected to the other (each polls the stored
 * version every two seconds), and so does its removal.
 */

test("a check created on one instance reaches an agent watching the other; a delete there stops it", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-remote-cluster-"));
  const dataDir = path.join(dir, "data");
  const servers: ServerProcess[] = [];
  const target = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  let agent: AgentHandle | undefined;
  try {
    for (const name of ["a.toml", "b.toml"]) {
      const config = await writeServerConfig(dir, { dataDir, fileName: name, logLevel: "warn" });
      servers.push(await spawnServer(config.file, config.ports));
    }
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const lines: string[] = [];
    const config = buildAgentConfig({ agent_id: "pm2-1", state_dir: path.join(dir, "agent") }, { "server-url": `grpc://${b.grpc}`, interval: 0.5 });
    agent = await startAgent(config, { memoryQueue: true, collectors: [], systemInfo: null, logger: pino({ level: "info" }, { write: (line: string) => { lines.push(JSON.parse(line).msg); } }), remoteConfigBackoff: { initialMs: 100, maxMs: 500 }, flushTimeoutMs: 300 });
    // The agent has B's (empty) config before the check exists: what follows is a change B must notice.
    await until("the agent's (empty) config from B", async () => lines.find((l) => l === "checks: running no checks (from the server)"));
    const port = (target.address() as net.AddressInfo).port;
    const created = await adminFetch(`${a.http}/v1/checks`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "via-a", type: "tcp", target: "127.0.0.1", port, interval_secs: 1 }),
    });
    t.is(created.status, 201);
    await until("the check from A on the agent of B", async () => agent!.checks.state("via-a")?.up, 20_000,
      async () => `agent has ${JSON.stringify(agent!.remoteConfig())}; B says ${await (await adminFetch(`${b.http}/v1/checks`)).text()}`);
    t.is((await adminFetch(`${a.http}/v1/checks/via-a`, { method: "DELETE" })).status, 204);
    await until("the check gone from the agent", async () => (agent!.checks.state("via-a") === undefined ? true : undefined), 20_000);
    t.is(agent.remoteConfig(), undefined);
  } finally {
    await agent?.stop();
    for (const s of servers) s.child.kill("SIGTERM");
    await Promise.all(servers.map((s) => s.exited));
    await new Promise((r) => target.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});
