import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { startAgent, type AgentHandle } from "../agent/agent.ts";
import { buildAgentConfig } from "../agent/config.ts";
import { validateCheckTables } from "../agent/checks/definitions.ts";
import type { Collector } from "../agent/collectors/collector.ts";
import { adminFetch, getJson, startTestServer, until, type TestServer } from "./helpers/server.ts";

/*
 * The agent mesh and the server's collection settings, with real agents on one server:
 * each of three agents gets a mesh check for each other one (icmp, and tcp to the port it
 * advertised), and the interval and collector switches reach a running agent.
 */

const FAST = { initialMs: 100, maxMs: 500 };

async function listener(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

async function agentOn(server: TestServer, fields: Record<string, unknown>, collectors: Collector[] = []): Promise<AgentHandle> {
  const config = buildAgentConfig(fields, { "server-url": `grpc://${server.grpc}`, interval: 0.2 }, "test", validateCheckTables);
  return startAgent(config, { memoryQueue: true, collectors, systemInfo: null, logger: pino({ level: "silent" }), remoteConfigBackoff: FAST, flushTimeoutMs: 300 });
}

test("mesh of 3 agents: each gets mesh:<id> for the two others, at their advertised addresses; the tcp mesh checks run and report", async (t) => {
  const server = await startTestServer({ reachability: { mesh: true, mesh_interval_secs: 1 } });
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-mesh-"));
  const ports = await Promise.all([listener(), listener(), listener()]);
  const ids = ["mesh-a", "mesh-b", "mesh-c"];
  const agents: AgentHandle[] = [];
  try {
    for (const [i, id] of ids.entries()) {
      agents.push(await agentOn(server, { agent_id: id, state_dir: path.join(dir, id), advertise_address: `127.0.0.1:${ports[i]!.port}` }));
    }
    for (const [i, id] of ids.entries()) {
      const others = ids.filter((o) => o !== id);
      const expected = others.flatMap((o) => [`mesh-tcp:${o}`, `mesh:${o}`]).sort();
      const agent = agents[i]!;
      await until(`${id}'s mesh`, async () => {
        const names = agent.remoteConfig()?.checks.map((c: any) => c.name).sort();
        return JSON.stringify(names) === JSON.stringify(expected) ? true : undefined;
      }, 20_000, async () => JSON.stringify(agent.remoteConfig()?.checks));
      const icmp = agent.remoteConfig()!.checks.filter((c: any) => c.type === "icmp");
      t.deepEqual(icmp.map((c: any) => [c.name, c.target]), others.map((o) => [`mesh:${o}`, "127.0.0.1"]));
      const api = (await getJson(`${server.http}/v1/agents/${id}/config`)).body;
      t.deepEqual(api.checks.map((c: any) => c.name).sort(), expected);
    }
    // The 3×2 matrix of tcp mesh results in storage: every (source, target) pair up.
    for (const [i, id] of ids.entries()) {
      for (const [j, other] of ids.entries()) {
        if (i === j) continue;
        const point = await until(`${id} → ${other}`, async () => {
          const res = await getJson(`${server.http}/v1/agents/${id}/latest`);
          return res.status === 200 ? (res.body as any[]).find((p) => p.metric_name === "check.up" && p.labels.check === `mesh-tcp:${other}`) : undefined;
        }, 20_000);
        t.is(point.value, 1);
        t.is(point.labels.target, `127.0.0.1:${ports[j]!.port}`);
      }
    }
  } finally {
    for (const agent of agents) await agent.stop();
    await server.stop();
    await Promise.all(ports.map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A collector of one metric whose value counts its own collections. */
function counter(name: string): Collector & { count: number } {
  const collector = {
    name, count: 0,
    async collect() {
      collector.count++;
      return [{ metric: `test.${name}`, value: collector.count, labels: {} }];
    },
  };
  return collector as unknown as Collector & { count: number };
}

test("settings: the server's collection interval and collector switches reach a running agent without restarting its checks; removing them restores its own", async (t) => {
  const server = await startTestServer();
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-settings-"));
  const cpu = counter("cpu"), memory = counter("memory");
  const target = await listener();
  let agent: AgentHandle | undefined;
  try {
    const local = { name: "local-check", type: "tcp", target: "127.0.0.1", port: target.port, interval_secs: 1 };
    agent = await agentOn(server, { agent_id: "tuned-1", state_dir: dir, checks: [local] }, [cpu, memory]);
    await until("both collectors running", async () => (cpu.count > 1 && memory.count > 1 ? true : undefined));
    const since = (await until("the local check probed", async () => agent!.checks.state("local-check")?.up ? agent!.checks.state("local-check") : undefined)).sinceMs;
    const put = await adminFetch(`${server.http}/v1/agent-config/tuned-*`, {
      method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ collection_interval_secs: 0.3, collectors: { cpu: false } }),
    });
    t.is(put.status, 200);
    await until("the settings applied", async () => (agent!.remoteConfig()?.collectionIntervalSecs === 0.3 ? true : undefined), 15_000);
    const cpuThen = cpu.count, memoryThen = memory.count;
    await until("memory collected three more times", async () => (memory.count >= memoryThen + 3 ? true : undefined), 15_000);
    t.true(cpu.count <= cpuThen + 1, "cpu is off (one collection may have been under way)");
    t.is(agent.checks.state("local-check")?.sinceMs, since, "the checks kept running: a settings change restarts none");
    t.is((await adminFetch(`${server.http}/v1/agent-config/tuned-*`, { method: "DELETE" })).status, 204);
    const cpuOff = cpu.count;
    await until("cpu collected again", async () => (cpu.count >= cpuOff + 2 ? true : undefined), 15_000);
    t.is(agent.remoteConfig(), undefined, "nothing server-managed is left");
  } finally {
    await agent?.stop();
    await server.stop();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
