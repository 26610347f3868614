import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { startAgent, type AgentHandle } from "../agent/agent.ts";
import { validateCheckTables } from "../agent/checks/definitions.ts";
import { sharedIcmpSocket } from "../agent/checks/icmp-socket.ts";
import { buildAgentConfig } from "../agent/config.ts";
import { AgentCommandStore } from "../server/agent-config/commands.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { ProtoClient } from "./helpers/proto-client.ts";
import { adminFetch, getJson, startTestServer, until, type TestServer } from "./helpers/server.ts";
import { tempControlStore } from "./helpers/temp-control.ts";

/*
 * Tracing on demand: POST /v1/checks/:id/traceroute asks a real agent (in this process,
 * over its WatchAgentConfig stream on loopback gRPC) to trace the path to its check's host
 * and answers with the path the agent reported. Tracing needs raw ICMP (root or CAP_NET_RAW).
 */
const icmp = sharedIcmpSocket();
const rawIcmp = !("unavailable" in icmp);
if (!rawIcmp) console.warn("[check-trace.test] skipped: no raw ICMP socket here (run as root, or setcap cap_net_raw+ep on node)");
const traceTest = rawIcmp ? test : test.skip;

const trace = (server: TestServer, check: string, agent?: string) =>
  adminFetch(`${server.http}/v1/checks/${encodeURIComponent(check)}/traceroute${agent === undefined ? "" : `?agent=${encodeURIComponent(agent)}`}`, { method: "POST" });

test("commands: taken once, by their agent; stale ones dropped", async (t) => {
  const { control } = tempControlStore(t);
  const store = new AgentCommandStore(control.env);
  t.deepEqual(store.waitingAgents(), new Set());
  await store.add({ id: "1", agent_id: "a", kind: "traceroute", args: { check: "x" }, created_at: 1_000 });
  await store.add({ id: "2", agent_id: "b", kind: "traceroute", args: { check: "x" }, created_at: 1_000 });
  await store.add({ id: "3", agent_id: "a", kind: "traceroute", args: { check: "y" }, created_at: 70_000 });
  t.deepEqual(store.waitingAgents(), new Set(["a", "b"]));
  t.deepEqual((await store.take("a", 70_500)).map((c) => c.id), ["3"], "1 is older than a minute");
  t.deepEqual(await store.take("a", 70_500), [], "taken once");
  t.deepEqual(await store.take("b", 70_500), [], "b's went stale too");
  t.deepEqual(store.waitingAgents(), new Set());
});

traceTest("an agent asked through the API traces its check's host now; the path is the answer and is stored", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-trace-"));
  const server = await startTestServer();
  const target = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  let agent: AgentHandle | undefined;
  try {
    const base = buildAgentConfig({ agent_id: "tracer-1", state_dir: dir }, { "server-url": `grpc://${server.grpc}`, interval: 0.2 });
    const checks = validateCheckTables([{ name: "web", type: "tcp", target: "127.0.0.1", port: (target.address() as net.AddressInfo).port, interval_secs: 1 }]).checks;
    agent = await startAgent({ ...base, checks }, {
      memoryQueue: true, collectors: [], systemInfo: null, logger: pino({ level: "silent" }), remoteConfigBackoff: { initialMs: 100, maxMs: 500 }, flushTimeoutMs: 300,
    });
    await until("the agent's check.up", async () => {
      const latest = await getJson(`${server.http}/v1/agents/tracer-1/latest`);
      return latest.status === 200 && (latest.body as { metric_name: string }[]).some((v) => v.metric_name === "check.up") ? true : undefined;
    });
    const res = await trace(server, "web", "tracer-1");
    const body = await res.json() as { agent_id: string; check: string; kind: string; detail: string; hops: { ttl: number; address?: string }[] };
    t.is(res.status, 200, JSON.stringify(body));
    assertDocumented(t, "POST", "/v1/checks/{id}/traceroute", 200, body);
    t.like(body, { agent_id: "tracer-1", check: "web", kind: "traceroute" });
    t.regex(body.detail, /^traced on request /);
    t.deepEqual(body.hops.map((h) => [h.ttl, h.address]), [[1, "127.0.0.1"]], "loopback is one hop away");
    const stored = await getJson(`${server.http}/v1/traceroutes?agent=tracer-1&check=web`);
    t.true((stored.body.traceroutes as { detail?: string }[]).some((r) => r.detail === body.detail));

    // An agent that runs no such check, and one that never reported: 404s that say so.
    const none = await trace(server, "db", "tracer-1");
    t.is(none.status, 404);
    t.regex(await none.text(), /reports no check named 'db'/);
    const stranger = await trace(server, "web", "nobody");
    t.is(stranger.status, 404);
    t.regex(await stranger.text(), /'nobody' has never reported/);
    const noAgent = await trace(server, "web");
    t.is(noAgent.status, 400);
    t.regex(await noAgent.text(), /agent/);
  } finally {
    await agent?.stop();
    target.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a caller without credentials is refused; a check the agent does not report is a 404", async (t) => {
  const server = await startTestServer();
  const client = new ProtoClient(server.grpc);
  try {
    const now = Date.now();
    await client.report({ agent_id: "oxmon-1", timestamp_ms: now, data_points: [{ timestamp_ms: now, metric_name: "check.up", value: 1, labels: { check: "web", type: "tcp", target: "h:80" } }] });
    const anonymous = await fetch(`${server.http}/v1/checks/web/traceroute?agent=oxmon-1`, { method: "POST" });
    t.is(anonymous.status, 401);
    const wrongCheck = await trace(server, "w eb", "oxmon-1");
    t.is(wrongCheck.status, 404);
  } finally {
    client.close();
    await server.stop();
  }
});
