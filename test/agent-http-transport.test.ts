import test, { type ExecutionContext } from "ava";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { startAgent, type AgentOptions } from "../agent/agent.ts";
import type { Collector } from "../agent/collectors/collector.ts";
import { buildAgentConfig } from "../agent/config.ts";
import { parseRetryAfter } from "../agent/http-sender.ts";
import { adminFetch, startTestServer, until } from "./helpers/server.ts";

/*
 * The agent's HTTP JSON transport (http(s):// endpoints): against a real server, against a
 * stand-in that answers 429 with Retry-After, and against a gRPC port written as http://
 * (the reference's spelling), where the agent switches to gRPC. Also report_interval_secs
 * and the health line, which the stand-in makes easy to see.
 */

function counter(): Collector {
  let n = 0;
  return { name: "seq", collect: (now) => [{ timestampMs: now, metric: "test.seq", value: ++n, labels: {} }] };
}

function spoolDir(t: ExecutionContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-http-agent-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, "spool");
}

/** A stand-in REST port: records each POST body, answers what `answer` says (default 200). */
async function standIn(t: ExecutionContext, answer: (n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 })) {
  const requests: { at: number; body: any }[] = [];
  const server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      requests.push({ at: Date.now(), body: JSON.parse(text) });
      const { status, headers } = answer(requests.length);
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(status === 200 ? { success: true, message: "stored" } : { error: "busy", code: "RESOURCE_EXHAUSTED" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests };
}

async function agentAt(t: ExecutionContext, url: string, flags: Record<string, unknown> = {}, options: AgentOptions = {}) {
  const config = buildAgentConfig({ agent_id: "http-agent" }, { "server-url": url, interval: 0.2, "spool-dir": spoolDir(t), ...flags });
  const agent = await startAgent(config, { collectors: [counter()], systemInfo: null, logger: pino({ level: "silent" }), ...options });
  t.teardown(() => agent.stop());
  return agent;
}

test("Retry-After in seconds or as a date; nonsense is ignored", (t) => {
  t.is(parseRetryAfter("3"), 3000);
  t.is(parseRetryAfter(new Date(10_000 + 5_000).toUTCString(), 10_000), 5000);
  t.is(parseRetryAfter("soon"), undefined);
  t.is(parseRetryAfter(undefined), undefined);
  t.is(parseRetryAfter("99999"), 3_600_000, "bounded to an hour");
});

test("reports over HTTP JSON to a real server: stored, with system info and the exactly-once key", async (t) => {
  const server = await startTestServer({ require_agent_auth: true });
  t.teardown(() => server.stop());
  const res = await adminFetch(`${server.http}/v1/agents/whitelist`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ agent_id: "http-agent" }) });
  const { token } = await res.json() as { token: string };
  const agent = await agentAt(t, server.http, { token }, {
    systemInfo: { hostname: "h", os: "o", kernel: "k", arch: "x64", cpuCores: 2, memoryTotal: 1, diskTotal: 2, agentVersion: "0.1.0" },
  });
  await until("3 reports sent", async () => (agent.stats().sent >= 3 ? true : undefined), 20_000);
  const points = await (await adminFetch(`${server.http}/v1/metrics?agent=http-agent&metric=test.seq&from=${Date.now() - 60_000}&to=${Date.now() + 1000}`)).json() as any;
  t.deepEqual(points.series[0].points.slice(0, 3).map((p: number[]) => p[1]), [1, 2, 3]);
  const listed = (await (await adminFetch(`${server.http}/v1/agents`)).json() as any[]).find((a) => a.agent_id === "http-agent");
  t.is(listed.system_info.hostname, "h");
  t.like(agent.stats(), { failures: 0, dropped: 0 });
});

test("429 with Retry-After: the report is kept and sent again no sooner than asked, with the same sequence", async (t) => {
  const receiver = await standIn(t, (n) => (n === 2 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 }));
  const agent = await agentAt(t, receiver.url, {}, { backoff: { baseMs: 10, capMs: 20 } });
  await until("4 requests", async () => (receiver.requests.length >= 4 ? true : undefined), 20_000);
  const [, refused, retried] = receiver.requests;
  t.true(retried!.at - refused!.at >= 1000, `retried after ${retried!.at - refused!.at} ms`);
  t.is(retried!.body.sequence, refused!.body.sequence);
  t.is(retried!.body.stream_id, refused!.body.stream_id);
  t.is(agent.stats().streamId, refused!.body.stream_id);
  t.regex(agent.stats().lastError ?? "", /RESOURCE_EXHAUSTED: HTTP 429/);
  const sequences = receiver.requests.map((r) => r.body.sequence);
  t.deepEqual(sequences.slice(0, 4), [1, 2, 2, 3]);
});

test("report_interval_secs gathers the collections of its period into one report", async (t) => {
  const receiver = await standIn(t);
  await agentAt(t, receiver.url, { interval: 0.2, "report-interval": 1 });
  await until("3 reports", async () => (receiver.requests.length >= 3 ? true : undefined), 20_000);
  for (const { body } of receiver.requests.slice(0, 3)) {
    const instants = new Set(body.data_points.map((p: any) => p.timestamp_ms));
    t.is(instants.size, 5, "five collections of 0.2 s in a report of 1 s, each at its own instant");
  }
  const values = receiver.requests.slice(0, 3).flatMap((r) => r.body.data_points.map((p: any) => p.value));
  t.deepEqual(values, Array.from({ length: 15 }, (_, i) => i + 1));
});

test("the health line: reports sent, the spool, the last error", async (t) => {
  const lines: any[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const receiver = await standIn(t, (n) => (n === 1 ? { status: 503 } : { status: 200 }));
  await agentAt(t, receiver.url, {}, { logger, healthIntervalMs: 300, backoff: { baseMs: 10, capMs: 20 } });
  const health = await until("a health line after a report", async () => lines.find((l) => l.msg === "health" && l.sent > 0), 20_000);
  t.true(health.sentInPeriod > 0);
  t.is(typeof health.spoolReports, "number");
  t.is(typeof health.spoolBytes, "number");
  t.regex(health.lastError, /UNAVAILABLE: HTTP 503/);
});

test("an http:// endpoint that is a gRPC port (the reference's spelling): the agent switches to gRPC once and reports", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const lines: any[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const agent = await agentAt(t, `http://${server.grpc}`, {}, { logger });
  await until("2 reports sent", async () => (agent.stats().sent >= 2 ? true : undefined), 20_000);
  t.is(lines.filter((l) => /answers only HTTP\/2/.test(l.msg)).length, 1);
});
