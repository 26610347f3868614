import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { status } from "@grpc/grpc-js";
import { startAgent } from "../agent/agent.ts";
import { validateCheckTables } from "../agent/checks/definitions.ts";
import { buildAgentConfig } from "../agent/config.ts";
import { createHttpSender } from "../agent/http-sender.ts";
import { createSender } from "../agent/transport.ts";
import { ProtoClient, type ProtoBatch } from "./helpers/proto-client.ts";
import { LiveClient } from "./helpers/ws-client.ts";
import { adminHeaders, getJson, startTestServer, until } from "./helpers/server.ts";

/*
 * Check events end to end over loopback, against a real server: a real agent's tcp checks
 * (through its disk spool and the gRPC stream), reports from a third-party gRPC client built
 * from the proto alone, and the agent's HTTP JSON sender; then the three read routes, and
 * what each refuses.
 */

const silent = pino({ level: "silent" });

async function listener(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on("error", () => undefined); s.destroy(); });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

test("a real agent's tcp check going down shows in /v1/checks/:id/results with its reason, after its first result", async (t) => {
  const server = await startTestServer();
  const spoolDir = mkdtempSync(path.join(os.tmpdir(), "tsmon-check-spool-"));
  const target = await listener();
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  try {
    const { checks, problems } = validateCheckTables([{ name: "db", type: "tcp", target: "127.0.0.1", port: target.port, interval_secs: 1, timeout_ms: 900 }]);
    t.deepEqual(problems, []);
    const config = { ...buildAgentConfig({ agent_id: "checker", spool_dir: spoolDir }, { "server-url": server.grpc, interval: 0.3 }), checks };
    agent = await startAgent(config, { collectors: [], systemInfo: null, logger: silent });
    const results = async () => (await getJson(`${server.http}/v1/checks/db/results?from=${Date.now() - 600_000}`)).body;
    const up = await until("the check's first result (up)", async () => {
      const body = await results();
      return body.agents?.[0]?.events?.length ? body : undefined;
    });
    t.like(up.agents[0], { agent_id: "checker" });
    t.like(up.agents[0].events[0], { agent_id: "checker", check: "db", type: "tcp", target: `127.0.0.1:${target.port}`, kind: "first", up: true });
    await target.close(); // now the port refuses
    const down = await until("the down event", async () => {
      const body = await results();
      return body.agents[0].events.find((e: any) => e.kind === "down");
    });
    t.like(down, { agent_id: "checker", check: "db", up: false, reason_code: "refused" });
    // Refused, or reset by the listener closing under the probe: both are "refused".
    t.regex(down.reason_message, /ECONNREFUSED|ECONNRESET/);
    const body = await results();
    const upSeries = body.agents[0].series.find((s: any) => s.metric_name === "check.up");
    t.deepEqual(upSeries.labels, { check: "db", type: "tcp", target: `127.0.0.1:${target.port}` });
    t.true(upSeries.values.includes(1) && upSeries.values.includes(0), "check.up has both the up and the down results");
    t.true(body.agents[0].series.some((s: any) => s.metric_name === "check.rtt_ms"));
    t.is(body.agents[0].events.filter((e: any) => e.kind === "down").length, 1, "one down event, not one per failed probe");
    t.deepEqual((await results()).agents.length, 1);
    t.deepEqual((await getJson(`${server.http}/v1/checks/nothing-by-this-name/results`)).body.agents, []);
  } finally {
    await agent?.stop();
    await target.close();
    await server.stop();
    rmSync(spoolDir, { recursive: true, force: true });
  }
});

const up = (agent: string, check: string, target: string, value: number, ts: number, metric = "check.up") =>
  ({ timestamp_ms: ts, metric_name: metric, value, labels: { check, type: "icmp", target } });

test("a traceroute sent over gRPC by a client built from the proto shows in /v1/traceroutes, newest first", async (t) => {
  const server = await startTestServer();
  const client = new ProtoClient(server.grpc);
  try {
    const now = Date.now();
    const trace = (ts: number, lastAddress: string): ProtoBatch => ({
      agent_id: "tracer", timestamp_ms: ts, data_points: [up("tracer", "gw", "10.9.9.9", 0, ts)],
      check_events: [{
        check: "gw", type: "icmp", target: "10.9.9.9", timestamp_ms: ts, kind: "CHECK_EVENT_TRACEROUTE", up: false,
        hops: [{ ttl: 1, address: "10.0.0.1", rtt_ms: [0.4, -1, 0.6] }, { ttl: 2, rtt_ms: [-1, -1, -1] }, { ttl: 3, address: lastAddress, rtt_ms: [3.5] }],
      }],
    });
    t.like(await client.report(trace(now - 2_000, "10.1.1.1")), { success: true });
    t.like(await client.report(trace(now - 1_000, "10.2.2.2")), { success: true });
    // A resend of the same report stores nothing twice.
    t.like(await client.report(trace(now - 1_000, "10.2.2.2")), { success: true });
    const { status: code, body } = await getJson(`${server.http}/v1/traceroutes?agent=tracer&check=gw`);
    t.is(code, 200);
    t.is(body.traceroutes.length, 2);
    t.like(body.traceroutes[0], { agent_id: "tracer", check: "gw", target: "10.9.9.9", kind: "traceroute", timestamp_ms: now - 1_000 });
    t.deepEqual(body.traceroutes[0].hops, [
      { ttl: 1, address: "10.0.0.1", rtt_ms: [0.4, null, 0.6] }, { ttl: 2, rtt_ms: [null, null, null] }, { ttl: 3, address: "10.2.2.2", rtt_ms: [3.5] },
    ]);
    t.is((await getJson(`${server.http}/v1/traceroutes?agent=tracer`)).body.traceroutes.length, 2, "by agent alone");
    t.is((await getJson(`${server.http}/v1/traceroutes?check=gw&limit=1`)).body.traceroutes[0].hops[2].address, "10.2.2.2");
    t.is((await getJson(`${server.http}/v1/traceroutes?agent=someone-else`)).body.traceroutes.length, 0);
  } finally {
    client.close();
    await server.stop();
  }
});

test("a report of events alone (no point) is stored and acknowledged, also while a live client watches", async (t) => {
  const server = await startTestServer();
  const client = new ProtoClient(server.grpc);
  const live = await LiveClient.connect(server.http.replace("http", "ws") + "/v1/live");
  try {
    live.send({ type: "subscribe", agents: ["*"], metrics: [] });
    await live.next((m) => m.type === "subscribed");
    const ts = Date.now();
    const res = await client.report({
      agent_id: "events-only", timestamp_ms: ts, data_points: [],
      check_events: [{ check: "lone", type: "icmp", target: "10.3.3.3", timestamp_ms: ts, kind: "CHECK_EVENT_DOWN", up: false, reason_code: "timeout" }],
    });
    t.like(res, { success: true });
    const { body } = await getJson(`${server.http}/v1/checks/lone/results`);
    t.deepEqual(body.agents.map((a: any) => [a.agent_id, a.series.length, a.events.map((e: any) => e.reason_code)]), [["events-only", 0, ["timeout"]]]);
    const empty = await client.report({ agent_id: "events-only", timestamp_ms: ts, data_points: [] }).then(() => undefined, (e) => e);
    t.is(empty?.code, status.INVALID_ARGUMENT, "no point and no event is still refused");
    // The agent's own stream: such a report is shape 0, which needs no declaration.
    const sender = createSender(buildAgentConfig({ agent_id: "events-only" }, { "server-url": server.grpc }), { log: silent, maxReconnectBackoffMs: 1_000 });
    try {
      const lone = (n: number) => ({ check: "lone", type: "icmp", target: "10.3.3.3", timestampMs: ts + n, kind: "up" as const, up: true });
      for (const n of [1, 2]) {
        const outcome = await sender.send({ agentId: "events-only", timestampMs: ts + n, points: [], checkEvents: [lone(n)], streamId: "s", sequence: n }, 0);
        t.is(outcome.code, status.OK, outcome.message);
      }
    } finally {
      sender.close();
    }
    const kinds = (await getJson(`${server.http}/v1/checks/lone/results`)).body.agents[0].events.map((e: any) => e.kind);
    t.deepEqual(kinds, ["down", "up", "up"]);
  } finally {
    live.close();
    client.close();
    await server.stop();
  }
});

test("the agent's HTTP JSON sender carries check events to POST /v1/report", async (t) => {
  const server = await startTestServer();
  const { authorization } = await adminHeaders(server.http);
  const sender = createHttpSender({ baseUrl: server.http, authToken: authorization.slice("Bearer ".length) });
  try {
    const ts = Date.now();
    const outcome = await sender.send({
      agentId: "http-agent", timestampMs: ts, streamId: "h1", sequence: 1,
      points: [{ timestampMs: ts, metric: "check.up", value: 0, labels: { check: "api", type: "http", target: "http://api/" } }],
      checkEvents: [{ check: "api", type: "http", target: "http://api/", timestampMs: ts, kind: "down", up: false, reasonCode: "expect", reasonMessage: "status 503, expected 200" }],
    }, 0);
    t.is(outcome.code, status.OK, outcome.message);
    const { body } = await getJson(`${server.http}/v1/checks/api/results`);
    t.like(body.agents[0], { agent_id: "http-agent" });
    t.like(body.agents[0].events[0], { kind: "down", up: false, reason_code: "expect", reason_message: "status 503, expected 200" });
  } finally {
    sender.close();
    await server.stop();
  }
});

test("the matrix: the latest value per (source agent, check), mesh checks naming their target agent", async (t) => {
  const server = await startTestServer();
  const client = new ProtoClient(server.grpc);
  try {
    const ts = Date.now();
    const agents = ["m1", "m2", "m3"];
    for (const source of agents) {
      const points = agents.filter((a) => a !== source).flatMap((peer, i) => [
        up(source, `mesh:${peer}`, `10.0.0.${peer.slice(1)}`, 1, ts),
        up(source, `mesh:${peer}`, `10.0.0.${peer.slice(1)}`, 10 * Number(source.slice(1)) + i, ts, "check.rtt_ms"),
      ]);
      points.push(up(source, "web", "http://web/", source === "m3" ? 0 : 1, ts));
      if (source === "m3") points.push({ ...up(source, "mesh-tcp:m1", "10.0.0.1:9100", 1, ts), labels: { check: "mesh-tcp:m1", type: "tcp", target: "10.0.0.1:9100" } });
      t.like(await client.report({ agent_id: source, timestamp_ms: ts, data_points: points }), { success: true });
    }
    const rtt = await until("a full matrix", async () => {
      const { body } = await getJson(`${server.http}/v1/reachability/matrix?metric=check.rtt_ms`);
      return body.cells?.length === 6 ? body : undefined;
    });
    t.is(rtt.metric_name, "check.rtt_ms");
    t.deepEqual(rtt.cells.map((c: any) => [c.source_agent, c.target_agent, c.target, c.value]), [
      ["m1", "m2", "10.0.0.2", 10], ["m1", "m3", "10.0.0.3", 11],
      ["m2", "m1", "10.0.0.1", 20], ["m2", "m3", "10.0.0.3", 21],
      ["m3", "m1", "10.0.0.1", 30], ["m3", "m2", "10.0.0.2", 31],
    ]);
    t.is(rtt.cells[0].timestamp_ms, ts);
    const upMatrix = (await getJson(`${server.http}/v1/reachability/matrix?metric=check.up&agents=m3`)).body;
    t.deepEqual(upMatrix.cells.map((c: any) => [c.check, c.value, c.target_agent]), [["mesh-tcp:m1", 1, "m1"], ["mesh:m1", 1, "m1"], ["mesh:m2", 1, "m2"], ["web", 0, undefined]]);
  } finally {
    client.close();
    await server.stop();
  }
});

test("bad input: oversized or malformed events refuse the whole report; bad parameters and no credentials are refused", async (t) => {
  const server = await startTestServer();
  const client = new ProtoClient(server.grpc);
  try {
    const ts = Date.now();
    const hops = Array.from({ length: 65 }, (_, i) => ({ ttl: i + 1, address: "10.0.0.1", rtt_ms: [1] }));
    const poisoned: ProtoBatch = {
      agent_id: "poison", timestamp_ms: ts, data_points: [up("poison", "p", "x", 0, ts)],
      check_events: [{ check: "p", type: "icmp", target: "x", timestamp_ms: ts, kind: "CHECK_EVENT_TRACEROUTE", hops }],
    };
    const err = await client.report(poisoned).then(() => undefined, (e) => e);
    t.is(err?.code, status.INVALID_ARGUMENT);
    t.regex(err.details, /check_events\[0\]\.hops: 65 hops exceed the limit of 64/);
    const unknownKind = await client.report({ ...poisoned, check_events: [{ check: "p", kind: 0 }] }).then(() => undefined, (e) => e);
    t.is(unknownKind?.code, status.INVALID_ARGUMENT);
    t.regex(unknownKind.details, /check_events\[0\]\.kind/);
    const badName = await client.report({ ...poisoned, check_events: [{ check: "has space", kind: 2 }] }).then(() => undefined, (e) => e);
    t.regex(badName?.details ?? "", /check_events\[0\]\.check/);
    // Nothing of the refused reports was stored: neither their points nor their events.
    t.deepEqual((await getJson(`${server.http}/v1/checks/p/results?from=${ts - 60_000}`)).body.agents, []);
    t.deepEqual((await getJson(`${server.http}/v1/traceroutes?agent=poison`)).body.traceroutes, []);
    // The same over HTTP: a 400 naming the field.
    const res = await fetch(`${server.http}/v1/report`, {
      method: "POST", headers: { ...(await adminHeaders(server.http)), "content-type": "application/json" },
      body: JSON.stringify({ agent_id: "poison", data_points: [{ metric_name: "check.up", value: 0 }], check_events: [{ check: "p", kind: "traceroute", hops: [{ ttl: 0 }] }] }),
    });
    t.is(res.status, 400);
    t.regex(((await res.json()) as { error: string }).error, /check_events\[0\]\.hops\[0\]\.ttl/);

    const matrix = await getJson(`${server.http}/v1/reachability/matrix?metric=cpu.usage`);
    t.is(matrix.status, 400);
    t.regex(matrix.body.error, /metric: "cpu.usage" is not a matrix metric; use one of check.rtt_ms, check.loss_percent, check.up/);
    t.is((await getJson(`${server.http}/v1/traceroutes?limit=0`)).status, 400);
    t.is((await getJson(`${server.http}/v1/checks/x/results?from=2026-01-02&to=2026-01-01`)).status, 400);
    t.is((await getJson(`${server.http}/v1/checks/x/results?from=0&to=${ts}`)).status, 400, "more than 31 days");
    for (const route of ["/v1/checks/x/results", "/v1/traceroutes", "/v1/reachability/matrix"]) {
      t.is((await fetch(`${server.http}${route}`)).status, 401, `${route} without credentials`);
    }
  } finally {
    client.close();
    await server.stop();
  }
});
