import test, { type ExecutionContext } from "ava";
import net from "node:net";
import { status } from "@grpc/grpc-js";
import { pino } from "pino";
import type { SystemInfo } from "../common/metrics.ts";
import { startAgent, type AgentHandle, type AgentOptions } from "../agent/agent.ts";
import type { Collector } from "../agent/collectors/collector.ts";
import { buildAgentConfig } from "../agent/config.ts";
import { createGrpcSender } from "../agent/sender.ts";
import { FakeReceiver } from "./helpers/fake-receiver.ts";

const SYSTEM_INFO: SystemInfo = {
  hostname: "test-host", os: "Test OS 1", kernel: "6.1.0", arch: "x64", cpuCores: 4,
  memoryTotal: 16 * 2 ** 30, diskTotal: 2 ** 40, agentVersion: "0.1.0",
};

/** SYSTEM_INFO as the receiver decodes it (proto field names, uint64 as numbers). */
const SYSTEM_INFO_PROTO = {
  hostname: "test-host", os: "Test OS 1", kernel: "6.1.0", arch: "x64", cpu_cores: 4,
  memory_total: 16 * 2 ** 30, disk_total: 2 ** 40, agent_version: "0.1.0", update_failed_version: "", update_failure: "",
};

/** Numbers its collections 1, 2, 3…: the value tells which batch a report is. */
function sequenceCollector(): Collector {
  let n = 0;
  return { name: "seq", collect: (now) => [{ timestampMs: now, metric: "test.seq", value: ++n, labels: { kind: "seq" } }] };
}

const seqOf = (call: FakeReceiver["calls"][number]) => call.batch.data_points[0]!.value;

/** A receiver and an agent reporting to it, both stopped when the test ends. */
async function setUp(t: ExecutionContext, flags: Record<string, unknown> = {}, options: AgentOptions = {}, stream = true) {
  const receiver = await FakeReceiver.start({ stream });
  const entry: { agent?: AgentHandle } = {};
  t.teardown(async () => {
    await entry.agent?.stop();
    await receiver.stop();
  });
  const config = buildAgentConfig({ agent_id: "agent-under-test" }, { "server-url": receiver.address, interval: 0.1, ...flags });
  const agent = await startAgent(config, {
    memoryQueue: true,
    collectors: [sequenceCollector()], systemInfo: SYSTEM_INFO, logger: pino({ level: "silent" }), ...options,
  });
  entry.agent = agent;
  return { receiver, agent };
}

test("batches arrive with metadata, timestamps as numbers, system info and no drops", async (t) => {
  const { receiver, agent } = await setUp(t, { token: "s3cret" });
  await receiver.waitFor(() => receiver.accepted.length >= 3, 10_000, "3 batches");
  const calls = receiver.accepted;
  for (const call of calls) {
    t.like(call, { transport: "stream", stream: 1 }, "the agent prefers ReportStream and keeps one open");
    t.is(call.metadata.authorization, "Bearer s3cret");
    t.is(call.metadata["agent-id"], "agent-under-test");
    t.is(call.batch.agent_id, "agent-under-test");
    t.is(call.batch.dropped_batches, 0);
    t.is(typeof call.batch.timestamp_ms, "number");
    t.true(call.batch.timestamp_ms > Date.now() - 60_000 && call.batch.timestamp_ms <= Date.now());
    t.deepEqual(call.batch.data_points.map((p) => p.timestamp_ms), [call.batch.timestamp_ms]);
    t.is(call.batch.data_points[0]!.agent_id, "agent-under-test");
    t.deepEqual(call.batch.data_points[0]!.labels, { kind: "seq" });
    t.deepEqual(call.batch.system_info, SYSTEM_INFO_PROTO);
  }
  t.deepEqual(calls.slice(0, 3).map(seqOf), [1, 2, 3]);
  const ts = calls.map((c) => c.batch.timestamp_ms);
  t.deepEqual(ts, [...ts].sort((a, b) => a - b));
  await agent.stop();
  const stats = agent.stats();
  t.is(stats.sent, receiver.accepted.length);
  t.like(stats, { dropped: 0, buffered: 0, failures: 0, collected: stats.sent });
});

test("a server without ReportStream gets each batch as a ReportMetrics call, in order, nothing lost", async (t) => {
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
  const { receiver, agent } = await setUp(t, { token: "s3cret" }, { logger }, false);
  await receiver.waitFor(() => receiver.accepted.length >= 3, 10_000, "3 batches");
  await agent.stop();
  t.true(receiver.calls.every((c) => c.transport === "unary"));
  t.deepEqual(receiver.accepted.map(seqOf), Array.from({ length: agent.stats().collected }, (_, i) => i + 1));
  t.is(receiver.accepted[0]!.metadata.authorization, "Bearer s3cret");
  t.deepEqual(receiver.accepted[0]!.batch.system_info, SYSTEM_INFO_PROTO);
  t.like(agent.stats(), { dropped: 0, failures: 0 });
  t.is(lines.filter((l) => l.includes("the server has no ReportStream")).length, 1, "said once, not per batch");
});

test("reports in flight together when the stream is found missing each go as a ReportMetrics call; it is said once", async (t) => {
  const receiver = await FakeReceiver.start({ stream: false });
  const lines: string[] = [];
  const sender = createGrpcSender({ target: receiver.address, agentId: "burst", tls: false, log: pino({ level: "info" }, { write: (line: string) => lines.push(line) }) });
  t.teardown(async () => {
    sender.close();
    await receiver.stop();
  });
  const at = Date.now();
  const batch = (i: number) => ({ agentId: "burst", timestampMs: at + i, points: [{ metric: "seq", labels: {}, value: i, timestampMs: at + i }] });
  const outcomes = await Promise.all([1, 2, 3, 4, 5].map((i) => sender.send(batch(i), 0, { waitForReady: true })));
  t.true(outcomes.every((o) => o.code === status.OK));
  t.deepEqual(receiver.accepted.map(seqOf).sort(), [1, 2, 3, 4, 5]);
  t.true(receiver.calls.every((c) => c.transport === "unary"));
  t.is(lines.filter((l) => l.includes("the server has no ReportStream")).length, 1);
});

test("without a token no authorization metadata is sent", async (t) => {
  const { receiver } = await setUp(t);
  await receiver.waitFor(() => receiver.accepted.length >= 1, 10_000, "a batch");
  t.false("authorization" in receiver.accepted[0]!.metadata);
  t.is(receiver.accepted[0]!.metadata["agent-id"], "agent-under-test");
});

test("INVALID_ARGUMENT drops the batch for good; the next batch reports the drop", async (t) => {
  const { receiver, agent } = await setUp(t);
  receiver.answerNext(status.INVALID_ARGUMENT, 1, "data_points[0].value: must be a finite number");
  await receiver.waitFor(() => receiver.accepted.length >= 3, 10_000, "3 accepted batches");
  t.is(receiver.calls[0]!.answered, status.INVALID_ARGUMENT);
  t.is(seqOf(receiver.calls[0]!), 1);
  // Never retried: seq 1 is not among the accepted ones, which go on from 2.
  t.deepEqual(receiver.accepted.slice(0, 2).map(seqOf), [2, 3]);
  t.deepEqual(receiver.accepted.map((c) => c.batch.dropped_batches).slice(0, 2), [1, 0]);
  t.like(agent.stats(), { dropped: 1, failures: 0 });
});

test("RESOURCE_EXHAUSTED keeps the batch and retries it until accepted", async (t) => {
  const { receiver, agent } = await setUp(t, {}, { backoff: { baseMs: 20, capMs: 100 } });
  receiver.answerNext(status.RESOURCE_EXHAUSTED, 3, "ingest queue full");
  await receiver.waitFor(() => receiver.accepted.length >= 3, 10_000, "3 accepted batches");
  t.deepEqual(receiver.calls.slice(0, 4).map((c) => [seqOf(c), c.answered]), [
    [1, status.RESOURCE_EXHAUSTED], [1, status.RESOURCE_EXHAUSTED], [1, status.RESOURCE_EXHAUSTED], [1, status.OK],
  ]);
  t.deepEqual(receiver.accepted.slice(0, 3).map(seqOf), [1, 2, 3]);
  t.true(receiver.accepted.every((c) => c.batch.dropped_batches === 0));
  t.like(agent.stats(), { dropped: 0, failures: 3 });
});

test("a stream report left unanswered past the deadline is sent again on a new stream", async (t) => {
  const { receiver, agent } = await setUp(t, {}, { backoff: { baseMs: 20, capMs: 100 }, sendDeadlineMs: 300 });
  receiver.silenceNext(1);
  await receiver.waitFor(() => receiver.accepted.length >= 3, 10_000, "3 accepted batches");
  t.deepEqual(receiver.calls.slice(0, 2).map((c) => [seqOf(c), c.answered, c.stream]), [[1, -1, 1], [1, status.OK, 2]]);
  t.deepEqual(receiver.accepted.slice(0, 3).map(seqOf), [1, 2, 3]);
  t.like(agent.stats(), { dropped: 0, failures: 1 });
});

test("UNAUTHENTICATED and other failures are retried too, in order", async (t) => {
  const { receiver } = await setUp(t, { token: "wrong" }, { backoff: { baseMs: 20, capMs: 100 } });
  receiver.answerNext(status.UNAUTHENTICATED, 2, "unknown token");
  receiver.answerNext(status.INTERNAL, 1);
  await receiver.waitFor(() => receiver.accepted.length >= 2, 10_000, "2 accepted batches");
  t.deepEqual(receiver.accepted.slice(0, 2).map(seqOf), [1, 2]);
});

test("stop makes one last, bounded attempt to send what is buffered", async (t) => {
  const { receiver, agent } = await setUp(t, { interval: 0.2 });
  await receiver.waitFor(() => receiver.accepted.length >= 1, 10_000, "a batch");
  await receiver.stop();
  const before = agent.stats().collected;
  await receiver.waitFor(() => agent.stats().collected >= before + 3, 10_000, "3 more collections");
  t.true(agent.stats().buffered >= 2);
  await receiver.restart();
  await agent.stop();
  const stats = agent.stats();
  t.like(stats, { buffered: 0, dropped: 0 });
  const seqs = [...new Set(receiver.accepted.map(seqOf))];
  t.deepEqual(seqs, Array.from({ length: stats.collected }, (_, i) => i + 1));
});

test("stop with the server gone gives up after the flush timeout and keeps nothing running", async (t) => {
  const { receiver, agent } = await setUp(t, {}, { flushTimeoutMs: 300 });
  await receiver.waitFor(() => receiver.accepted.length >= 1, 10_000, "a batch");
  await receiver.stop();
  // The port stays taken by a listener that never answers: once freed, a server of another
  // test file running alongside could bind it and take the agent's last batches.
  const held: net.Socket[] = [];
  const blackHole = net.createServer((socket) => held.push(socket));
  await new Promise<void>((resolve, reject) => blackHole.once("error", reject).listen(receiver.port, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    for (const socket of held) socket.destroy();
    blackHole.close(() => resolve());
  }));
  await receiver.waitFor(() => agent.stats().buffered >= 2, 10_000, "a backlog");
  await agent.stop();
  const collected = agent.stats().collected;
  await new Promise((r) => setTimeout(r, 300));
  t.is(agent.stats().collected, collected);
  t.true(agent.stats().buffered >= 2);
});
