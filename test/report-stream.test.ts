import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { ReportStreamClient } from "../agent/report-stream.ts";
import type { MetricBatch } from "../common/metrics.ts";
import { ProtoStream, makeColumnar, type ProtoColumnar } from "./helpers/proto-client.ts";
import { getJson, startTestServer, until, type TestServer } from "./helpers/server.ts";

/*
 * ReportStream as a third-party client speaks it: every message is encoded by proto-loader
 * from proto/metrics.proto, none by tsmon's own encoder (the agent's side is in
 * agent-sender.test.ts and agent-wire.test.ts).
 */

let server: TestServer;
const now = Date.now();
const streams: ProtoStream[] = [];

test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  for (const s of streams) s.close();
  await server?.stop();
});

function open(): ProtoStream {
  const s = new ProtoStream(server.grpc);
  streams.push(s);
  return s;
}

async function storedTimes(agent: string, metric = "cpu.usage"): Promise<number[]> {
  const q = await getJson(`${server.http}/v1/metrics?agent=${agent}&metric=${metric}&from=${now - 3_600_000}&to=${now}`);
  return q.status === 404 ? [] : q.body.series.flatMap((s: any) => s.points.map((p: number[]) => p[0]));
}

test.serial("reports on one stream are stored, each acknowledged in the order sent; the series are declared once", async (t) => {
  const s = open();
  const times = Array.from({ length: 30 }, (_, i) => now - 300_000 + i * 1_000);
  // Every third report is refused: by an ingest thread (a NaN), or at once by the stream
  // itself (a shape never declared), so answers are ready out of order.
  const reports = times.map((ts, i) => {
    const r = makeColumnar("stream-01", ts, 5, i % 6 === 5 ? 9 : 1, i === 0);
    if (i % 6 === 2) r.values[2] = Number.NaN;
    return r;
  });
  // All in flight at once: the acknowledgements must still come back in order.
  const acks = await Promise.all(reports.map((r) => s.send(r)));
  acks.forEach((ack, i) => {
    if (i % 6 === 2) t.deepEqual(ack, { code: status.INVALID_ARGUMENT, message: "values[2]: must be a finite number, got NaN" }, `report ${i}`);
    else if (i % 6 === 5) t.true(ack.code === status.INVALID_ARGUMENT && /shape 9 was not declared/.test(ack.message), `report ${i}`);
    else t.deepEqual(ack, { code: status.OK, message: "" }, `report ${i}`);
  });
  t.deepEqual(await storedTimes("stream-01"), times.filter((_, i) => i % 3 !== 2));
  const cores = await getJson(`${server.http}/v1/metrics?agent=stream-01&metric=cpu.core_usage&from=${times[0]}&to=${times[0]}`);
  t.deepEqual(cores.body.series.map((x: any) => [x.labels.core, x.points[0][1]]), [["0", 1.25], ["1", 2.25], ["2", 3.25], ["3", 4.25]]);
  s.end();
  t.is((await s.ended).code, status.OK, "the server ends the stream once the sender has");
});

test.serial("the agent's stream client, many reports in flight, gets each report's own answer", async (t) => {
  const client = new grpc.Client(server.grpc, grpc.credentials.createInsecure());
  const stream = new ReportStreamClient(client, { metadata: new grpc.Metadata() });
  t.teardown(() => { stream.close(); client.close(); });
  const batches: MetricBatch[] = Array.from({ length: 40 }, (_, i) => {
    const ts = now - 400_000 + i * 1_000;
    return { agentId: "stream-agent", timestampMs: ts, points: [
      { timestampMs: ts, metric: "cpu.usage", value: i % 7 === 3 ? Number.NaN : i, labels: {} },
      { timestampMs: ts, metric: "memory.used", value: i * 4096, labels: {} },
    ] };
  });
  const outcomes = await Promise.all(batches.map((b) => stream.send(b, 0, { deadline: Date.now() + 15_000 })));
  t.deepEqual(outcomes.map((o) => o.code), batches.map((_, i) => (i % 7 === 3 ? status.INVALID_ARGUMENT : status.OK)));
  t.deepEqual(await storedTimes("stream-agent"), batches.filter((_, i) => i % 7 !== 3).map((b) => b.timestampMs));
});

test.serial("thousands of reports in flight on one stream: every one answered, in order, with its own status", async (t) => {
  const s = open();
  const times = Array.from({ length: 3_000 }, (_, i) => now - 3_000_000 + i * 1_000);
  const acks = await Promise.all(times.map((ts, i) => {
    const r = makeColumnar("stream-many", ts, 2, 1, i === 0);
    if (i % 500 === 7) r.values[0] = Number.POSITIVE_INFINITY;
    return s.send(r);
  }));
  t.deepEqual(acks.map((a) => a.code), times.map((_, i) => (i % 500 === 7 ? status.INVALID_ARGUMENT : status.OK)));
  t.deepEqual(await storedTimes("stream-many"), times.filter((_, i) => i % 500 !== 7));
});

test.serial("offsets place points at their own instants; system info and dropped batches reach the agent list", async (t) => {
  const s = open();
  const ts = now - 200_000;
  const report: ProtoColumnar = {
    agent_id: "stream-02", shape: 4, timestamp_ms: ts, values: [1, 2, 3], timestamp_offsets: [0, -10_000, -20_000],
    series: [{ metric_name: "cpu.usage" }, { metric_name: "cpu.usage" }, { metric_name: "cpu.usage" }].map((x) => ({ ...x, labels: {} })),
    system_info: { hostname: "h2", os: "Debian", kernel: "6.1", arch: "x64", cpu_cores: 8, memory_total: 2 ** 34, disk_total: 2 ** 40, agent_version: "9.9.9" },
    dropped_batches: 3,
  };
  t.is((await s.send(report)).code, status.OK);
  t.deepEqual(await storedTimes("stream-02"), [ts - 20_000, ts - 10_000, ts]);
  const agents = await getJson(`${server.http}/v1/agents`);
  const agent = agents.body.find((a: any) => a.agent_id === "stream-02");
  t.like(agent, { dropped_batches: 3, system_info: { hostname: "h2", cpuCores: 8, memoryTotal: 2 ** 34, agentVersion: "9.9.9" } });
  t.is(new Date(agent.last_seen).getTime(), ts);
});

test.serial("a report of an undeclared shape, or of the wrong length, is refused alone; the stream goes on", async (t) => {
  const s = open();
  const ts = now - 100_000;
  const undeclared = await s.send(makeColumnar("stream-03", ts, 3, 7, false));
  t.is(undeclared.code, status.INVALID_ARGUMENT);
  t.regex(undeclared.message, /shape 7 was not declared on this stream/);
  const short = makeColumnar("stream-03", ts, 3, 1, true);
  short.values.pop();
  t.like(await s.send(short), { code: status.INVALID_ARGUMENT, message: "series: 3 series for 2 values; send one value per series" });
  const offsets = makeColumnar("stream-03", ts, 3, 1, false);
  offsets.timestamp_offsets = [0, 0];
  t.like(await s.send(offsets), { code: status.INVALID_ARGUMENT, message: "timestamp_offsets: 2 offsets for 3 values; send one per value, or none" });
  const badName = makeColumnar("stream-03", ts, 3, 2, true);
  badName.series![1]!.metric_name = "cpu usage";
  t.like(await s.send(badName), { code: status.INVALID_ARGUMENT });
  t.regex((await s.send({ ...makeColumnar("stream-03", ts, 3, 2, false) })).message, /series\[1\]\.metric_name: "cpu usage" must match/,
    "a refused declaration stays refused: its shape is checked again with every report");
  t.deepEqual(await storedTimes("stream-03"), [], "nothing of the refused reports is stored");
  // Shape 1 was declared by the report of the wrong length: it is usable.
  t.is((await s.send(makeColumnar("stream-03", ts, 3, 1, false))).code, status.OK);
  t.deepEqual(await storedTimes("stream-03"), [ts]);
  // The ingest thread now knows shape 1 as checked: a report of the wrong length is still refused.
  for (const length of [2, 5]) {
    const wrong = makeColumnar("stream-03", ts + 1_000, 3, 1, false);
    wrong.values = Array.from({ length }, (_, i) => i);
    t.like(await s.send(wrong), { code: status.INVALID_ARGUMENT, message: `series: 3 series for ${length} values; send one value per series` });
  }
  t.deepEqual(await storedTimes("stream-03"), [ts]);
  // Shape 1 declared again, with a bad name: the threads check the new declaration, not the one they knew.
  const redeclared = makeColumnar("stream-03", ts + 2_000, 3, 1, true);
  redeclared.series![0]!.metric_name = "cpu usage";
  t.like(await s.send(redeclared), { code: status.INVALID_ARGUMENT });
  for (let i = 0; i < 4; i++) { // on either ingest thread
    t.regex((await s.send(makeColumnar("stream-03", ts + 3_000 + i, 3, 1, false))).message, /series\[0\]\.metric_name: "cpu usage" must match/);
  }
  t.deepEqual(await storedTimes("stream-03"), [ts]);
});

test.serial("a sender that stops reading its acknowledgements is stopped from sending more; once it reads, every report is answered and stored", async (t) => {
  const s = open();
  s.pauseReading();
  const n = 30_000;
  const from = now - 3_100_000;
  const acks = Array.from({ length: n }, (_, i) => s.send(makeColumnar("stream-slow", from + i * 100, 1, 1, i === 0)));
  // The server stops reading once the acknowledgements it cannot send fill its buffers.
  let before = -1;
  const stalled = await until("the server to stop taking reports", async () => {
    const stored = (await storedTimes("stream-slow")).length;
    if (stored === before && stored > 0) return stored;
    before = stored;
    await new Promise((r) => setTimeout(r, 1_000));
    return undefined;
  }, 60_000);
  t.true(stalled < n, `${stalled} of ${n} stored while no acknowledgement was read`);
  s.resumeReading();
  const answered = await Promise.all(acks);
  t.true(answered.every((a) => a.code === status.OK));
  t.is((await storedTimes("stream-slow")).length, n);
});

test.serial("bytes that are not a report get INVALID_ARGUMENT on their own acknowledgement", async (t) => {
  const s = open();
  const garbage = [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.from([0x0a, 0x20, 0x61]), Buffer.from([0x32, 0x03, 0x00])];
  for (const bytes of garbage) {
    const ack = await s.send(bytes);
    t.is(ack.code, status.INVALID_ARGUMENT, bytes.toString("hex"));
    t.regex(ack.message, /report is not a valid ColumnarReportProto/);
  }
  t.like(await s.send(Buffer.alloc(0)), { code: status.INVALID_ARGUMENT },
    "an empty message is a report with every field at its default: shape 0, never declared");
  t.is((await s.send(makeColumnar("stream-04", now - 90_000, 2, 1, true))).code, status.OK, "the stream still takes reports");
});

test.serial("an oversized report ends the stream with RESOURCE_EXHAUSTED; what was acknowledged before stays stored", async (t) => {
  const s = open();
  const ts = now - 80_000;
  t.is((await s.send(makeColumnar("stream-05", ts, 2, 1, true))).code, status.OK);
  const big = makeColumnar("stream-05", ts + 1_000, 2, 2, true);
  big.series![0]!.labels = { blob: "x".repeat(5 * 1024 * 1024) };
  await t.throwsAsync(s.send(big), { message: /RESOURCE_EXHAUSTED/ });
  t.is((await s.ended).code, status.RESOURCE_EXHAUSTED);
  t.deepEqual(await storedTimes("stream-05"), [ts]);
  t.is((await open().send(makeColumnar("stream-05", ts + 2_000, 2, 1, true))).code, status.OK, "a new stream is served");
});

test.serial("a stream that declares more than 16 MiB of series is ended with RESOURCE_EXHAUSTED; reports before it keep their answers", async (t) => {
  const s = open();
  const ts = now - 70_000;
  t.is((await s.send(makeColumnar("stream-06", ts, 2, 1, true))).code, status.OK);
  // 3.5 MB declarations of one long-named series each, with one value: each is refused on
  // its own (a label value too long) but stays declared, as the stream cannot know it.
  const declaration = (shape: number): ProtoColumnar => ({
    agent_id: "stream-06", shape, timestamp_ms: ts, values: [1],
    series: Array.from({ length: 13_000 }, (_, i) => ({ metric_name: "m", labels: { k: `${i}`.padEnd(256, "v") } })),
  });
  const answers = [];
  for (let shape = 2; shape <= 6; shape++) answers.push(await s.send(declaration(shape)).catch((err: Error) => err.message));
  t.deepEqual(answers.slice(0, 4).map((a: any) => a.code), [3, 3, 3, 3]);
  t.like(answers[4], { code: status.RESOURCE_EXHAUSTED });
  t.regex((answers[4] as any).message, /open a new stream/);
  const end = await s.ended;
  t.is(end.code, status.RESOURCE_EXHAUSTED);
  t.regex(end.details, /declared more than 16 MiB of series/);
  t.deepEqual(await storedTimes("stream-06"), [ts]);
});

test.serial("at shutdown a stream answers what it took in, then ends UNAVAILABLE", async (t) => {
  const own = await startTestServer();
  const s = new ProtoStream(own.grpc);
  try {
    const ts = now - 60_000;
    const acks = [s.send(makeColumnar("stream-07", ts, 3, 1, true)), s.send(makeColumnar("stream-07", ts + 1_000, 3, 1, false))];
    t.deepEqual((await Promise.all(acks)).map((a) => a.code), [status.OK, status.OK]);
    const stopped = own.stop();
    const end = await s.ended;
    t.is(end.code, status.UNAVAILABLE);
    t.regex(end.details, /shutting down/);
    await stopped;
  } finally {
    s.close();
    await own.stop();
  }
});
