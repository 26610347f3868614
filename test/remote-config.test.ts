import test from "ava";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { startAgent, type AgentHandle } from "../agent/agent.ts";
import { validateCheckTables } from "../agent/checks/definitions.ts";
import { buildAgentConfig } from "../agent/config.ts";
import type { Collector } from "../agent/collectors/collector.ts";
import { adminFetch, getJson, startTestServer, until, type TestServer } from "./helpers/server.ts";
import { refusedPort } from "./helpers/test-pki.ts";
import { FakeReceiver } from "./helpers/fake-receiver.ts";

/*
 * Server-managed checks end to end: a real server (loopback gRPC, LMDB in a temp dir) and
 * real agents in this process, their logs captured. What the API changes reaches the
 * running agent; the agent caches it and falls back to the cache or its own [[checks]]
 * when the server is away.
 */

const FAST = { initialMs: 100, maxMs: 500 };

interface LogLine { level: number; msg: string; [k: string]: unknown }

async function listener(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

async function agentOn(serverGrpc: string, fields: Record<string, unknown>, lines: LogLine[] = [], collectors: Collector[] = []): Promise<AgentHandle> {
  const { checks: localTables, ...rest } = fields as { checks?: unknown[] };
  const base = buildAgentConfig(rest, { "server-url": `grpc://${serverGrpc}`, interval: 0.2 });
  const config = { ...base, checks: localTables ? validateCheckTables(localTables).checks : [] };
  const logger = pino({ level: "info" }, { write: (line: string) => { lines.push(JSON.parse(line)); } });
  return startAgent(config, { memoryQueue: true, collectors, systemInfo: null, logger, remoteConfigBackoff: FAST, flushTimeoutMs: 300 });
}

const post = (server: TestServer, p: string, body: unknown, method = "POST") =>
  adminFetch(`${server.http}${p}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** The newest check.up sample of `check` stored for `agent`, if any. */
async function latestUp(server: TestServer, agent: string, check: string, target?: string): Promise<{ value: number; timestamp_ms: number } | undefined> {
  const res = await getJson(`${server.http}/v1/agents/${agent}/latest`);
  if (res.status !== 200) return undefined;
  return (res.body as any[]).find((p) => p.metric_name === "check.up" && p.labels.check === check && (target === undefined || p.labels.target === target));
}

test("a check added through the API reaches the running agent, a replaced set stops the old check, and the set is cached", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-remote-"));
  const server = await startTestServer();
  const [a, b] = [await listener(), await listener()];
  let agent: AgentHandle | undefined;
  try {
    t.is((await post(server, "/v1/checks", { name: "svc-a", type: "tcp", target: "127.0.0.1", port: a.port, interval_secs: 1, agent_pattern: "remote-*" })).status, 201);
    t.is((await post(server, "/v1/checks", { name: "elsewhere", type: "tcp", target: "127.0.0.1", port: a.port, agent_pattern: "db-*" })).status, 201);
    const lines: LogLine[] = [];
    agent = await agentOn(server.grpc, { agent_id: "remote-1", state_dir: dir }, lines);
    await until("svc-a's samples from the agent", () => latestUp(server, "remote-1", "svc-a"), 15_000);
    t.deepEqual(agent.remoteConfig()?.checks.map((c: any) => c.name), ["svc-a"], "only the checks whose agent_pattern matches");
    t.true(lines.some((l) => l.msg === "checks: running 1 server-managed checks (from the server)"));

    // Replace the set: svc-a goes, svc-b comes.
    t.is((await adminFetch(`${server.http}/v1/checks/svc-a`, { method: "DELETE" })).status, 204);
    t.is((await post(server, "/v1/checks", { name: "svc-b", type: "tcp", target: "127.0.0.1", port: b.port, interval_secs: 1, agent_pattern: "remote-*" })).status, 201);
    const firstB = await until("svc-b's samples", () => latestUp(server, "remote-1", "svc-b", `127.0.0.1:${b.port}`), 15_000);
    t.is(firstB.value, 1);
    const lastA = (await latestUp(server, "remote-1", "svc-a"))!;
    // Two more rounds of svc-b after its first: svc-a, stopped before svc-b started, has none newer.
    await until("two more rounds of svc-b", async () => ((await latestUp(server, "remote-1", "svc-b", `127.0.0.1:${b.port}`))!.timestamp_ms >= firstB.timestamp_ms + 2000 ? true : undefined), 15_000);
    t.is((await latestUp(server, "remote-1", "svc-a"))!.timestamp_ms, lastA.timestamp_ms, "svc-a stopped probing");
    t.is(agent.checks.state("svc-a"), undefined);
    t.truthy(agent.checks.state("svc-b"));
    const cached = JSON.parse(readFileSync(path.join(dir, "remote-config.json"), "utf8"));
    t.deepEqual(cached.checks.map((c: any) => c.name), ["svc-b"]);

    // PUT changes the port: the agent follows (a refused port now).
    const closed = await refusedPort();
    t.is((await post(server, "/v1/checks/svc-b", { type: "tcp", target: "127.0.0.1", port: closed, interval_secs: 1, agent_pattern: "remote-*" }, "PUT")).status, 200);
    await until("svc-b down after the PUT", async () => ((await latestUp(server, "remote-1", "svc-b", `127.0.0.1:${closed}`))?.value === 0 ? true : undefined), 15_000);
    t.is(agent.checks.state("svc-b")?.lastReason?.code, "refused");
  } finally {
    await agent?.stop();
    await server.stop();
    await Promise.all([a.close(), b.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("server down at start: the cached server-managed set runs beside the local checks and the log says so; without a cache the local set runs", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-remote-"));
  const target = await listener();
  const deadServer = `127.0.0.1:${await refusedPort()}`;
  const agents: AgentHandle[] = [];
  try {
    const server = await startTestServer();
    try {
      await post(server, "/v1/checks", { name: "cached-check", type: "tcp", target: "127.0.0.1", port: target.port, interval_secs: 1 });
      const first = await agentOn(server.grpc, { agent_id: "cache-1", state_dir: dir });
      agents.push(first);
      await until("the server's config cached", async () => (existsSync(path.join(dir, "remote-config.json")) ? true : undefined), 15_000);
      await first.stop();
    } finally {
      await server.stop();
    }
    const local = [{ name: "local-check", type: "tcp", target: "127.0.0.1", port: target.port, interval_secs: 1 }];
    const lines: LogLine[] = [];
    const again = await agentOn(deadServer, { agent_id: "cache-1", state_dir: dir, checks: local }, lines);
    agents.push(again);
    await until("the cached check probed", async () => again.checks.state("cached-check")?.up, 15_000);
    await until("the local check probed beside it", async () => again.checks.state("local-check")?.up, 15_000);
    await until("the log line", async () => lines.find((l) => l.msg === "checks: running 1 cached server-managed and 1 local checks (server unreachable)"), 15_000);

    const noCacheDir = mkdtempSync(path.join(os.tmpdir(), "tsmon-remote-"));
    t.teardown(() => rmSync(noCacheDir, { recursive: true, force: true }));
    const fresh: LogLine[] = [];
    const bare = await agentOn(deadServer, { agent_id: "cache-2", state_dir: noCacheDir, checks: local }, fresh);
    agents.push(bare);
    await until("the local check probed", async () => bare.checks.state("local-check")?.up, 15_000);
    t.is(bare.checks.state("cached-check"), undefined);
    await until("the log line", async () => fresh.find((l) => l.msg === "checks: running 1 local checks (server unreachable, no cached server-managed checks)"), 15_000);
  } finally {
    for (const agent of agents) await agent.stop();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a server without WatchAgentConfig (an oxmon-style receiver) answers UNIMPLEMENTED: the agent keeps its local checks and reports as before", async (t) => {
  const receiver = await FakeReceiver.start({ stream: true });
  const target = await listener();
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-remote-"));
  const lines: LogLine[] = [];
  const agent = await agentOn(receiver.address, { agent_id: "old-server", state_dir: dir, checks: [{ name: "local-check", type: "tcp", target: "127.0.0.1", port: target.port, interval_secs: 1 }] }, lines);
  try {
    await until("the log line", async () => lines.find((l) => l.msg === "checks: running 1 local checks (the server has no remote config: WatchAgentConfig is unimplemented)"), 15_000);
    await receiver.waitFor(() => receiver.accepted.some((c) => c.batch.data_points.some((p) => p.metric_name === "check.up" && p.labels.check === "local-check")), 15_000, "the local check's samples");
    t.is(agent.remoteConfig(), undefined);
    t.false(existsSync(path.join(dir, "remote-config.json")));
  } finally {
    await agent.stop();
    await receiver.stop();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
