import test from "ava";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import type { MetricBatch, MetricPoint, SystemInfo } from "../common/metrics.ts";
import { decodeReportAck, decodeReportResponse, encodeColumnarReport, encodeMetricBatch } from "../agent/wire.ts";
import { ProtoReader } from "../common/proto-reader.ts";
import type { SeriesRef } from "../common/series-text.ts";
import { decodeColumnarReport, decodeSeriesDeclaration, scanFrame } from "../server/ingest/columnar.ts";
import { decodeBatchProto, encodeReportAck, encodeReportResponse } from "../server/ingest/decode.ts";

/*
 * The agent's hand-written protobuf codec against protobufjs, which the server decodes
 * with: what the agent encodes must come out of the server's decoder unchanged, and each
 * field must sit under the number proto/metrics.proto gives it.
 */

// Imported after server/ingest/decode.ts, which sets protobufjs to plain-number int64s.
const schema = new protobuf.Root().loadSync(fileURLToPath(new URL("../proto/metrics.proto", import.meta.url)), { keepCase: true });
const BatchType = schema.lookupType("oxmon.MetricBatchProto");
const ColumnarType = schema.lookupType("oxmon.ColumnarReportProto");

/** The message as protobufjs reads it, snake_case fields, every default filled in. */
function decodeRaw(bytes: Uint8Array): Record<string, any> {
  return BatchType.toObject(BatchType.decode(bytes), { longs: Number, defaults: true, arrays: true, objects: true });
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

const EDGE_VALUES = [0, -0, 1, -1, 0.1, -123.456, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE,
  Number.EPSILON, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53 + 2, 2 ** 64, 1e-310, Infinity, -Infinity];
const TEXTS = ["", "a", "/data", "eth0", "Ünïcödé", "日本語のラベル", "emoji 🚀🔥", "tab\tand\nnewline", "x".repeat(200), "\u0000nul", "ß∂ƒ©˙∆˚¬…æ"];

function batchFrom(next: () => number, i: number): MetricBatch {
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const timestampMs = 1_767_225_600_000 + Math.floor(next() * 1e9);
  const points: MetricPoint[] = Array.from({ length: Math.floor(next() * 8) }, () => {
    const labels: Record<string, string> = {};
    for (let k = Math.floor(next() * 4); k > 0; k--) labels[pick(TEXTS) || "k"] = pick(TEXTS);
    const value = next() < 0.5 ? pick(EDGE_VALUES) : (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
    return { timestampMs, metric: pick(TEXTS) || "cpu.usage", value, labels };
  });
  const batch: MetricBatch = { agentId: `agent-${i}-${pick(TEXTS)}`, timestampMs, points, droppedBatches: next() < 0.3 ? Math.floor(next() * 2 ** 40) : 0 };
  if (next() < 0.7) {
    batch.systemInfo = {
      hostname: pick(TEXTS), os: pick(TEXTS), kernel: pick(TEXTS), arch: pick(["x64", "arm64", ""]), cpuCores: Math.floor(next() * 256),
      memoryTotal: Math.floor(next() * 2 ** 50), diskTotal: next() < 0.2 ? 0 : Math.floor(next() * 2 ** 52), agentVersion: pick(["0.1.0", ""]),
    };
  }
  return batch;
}

test("many batches come out of the server's decoder as they went in", (t) => {
  const next = random(20_260_101);
  for (let i = 0; i < 500; i++) {
    const batch = batchFrom(next, i);
    const decoded = decodeBatchProto(encodeMetricBatch(batch), 0);
    t.deepEqual(decoded, batch, `batch ${i}`);
    // -0 is a value of its own; deepEqual alone might not tell it from 0.
    decoded.points.forEach((p, j) => t.true(Object.is(p.value, batch.points[j]!.value), `batch ${i} point ${j}`));
  }
});

test("every field sits under its proto field number", (t) => {
  const systemInfo: SystemInfo = {
    hostname: "web-01", os: "Debian GNU/Linux 12", kernel: "6.1.0-18-amd64", arch: "x64", cpuCores: 16,
    memoryTotal: 64 * 2 ** 30, diskTotal: 3 * 2 ** 40, agentVersion: "0.1.0", updateFailedVersion: "0.2.0", updateFailure: "exited at once",
  };
  const batch: MetricBatch = {
    agentId: "web-01", timestampMs: 1_767_225_600_123, systemInfo, droppedBatches: 3, streamId: "Zk3-q_9", sequence: 2 ** 40 + 7,
    points: [
      { timestampMs: 1_767_225_600_123, metric: "disk.used", value: 123_456_789_012.5, labels: { mount: "/data", device: "sda1" } },
      { timestampMs: 1_767_225_600_123, metric: "load.load_1", value: 0, labels: {} },
    ],
  };
  t.deepEqual(decodeRaw(encodeMetricBatch(batch, 9)), {
    agent_id: "web-01",
    timestamp_ms: 1_767_225_600_123,
    data_points: [
      { timestamp_ms: 1_767_225_600_123, agent_id: "web-01", metric_name: "disk.used", value: 123_456_789_012.5, labels: { mount: "/data", device: "sda1" } },
      { timestamp_ms: 1_767_225_600_123, agent_id: "web-01", metric_name: "load.load_1", value: 0, labels: {} },
    ],
    system_info: {
      hostname: "web-01", os: "Debian GNU/Linux 12", kernel: "6.1.0-18-amd64", arch: "x64", cpu_cores: 16,
      memory_total: 64 * 2 ** 30, disk_total: 3 * 2 ** 40, agent_version: "0.1.0", update_failed_version: "0.2.0", update_failure: "exited at once",
    },
    // The argument wins over the batch's own count: the reporter knows better at send time.
    dropped_batches: 9,
    stream_id: "Zk3-q_9",
    sequence: 2 ** 40 + 7,
    check_events: [],
  });
  const back = decodeBatchProto(encodeMetricBatch(batch), 0);
  t.deepEqual([back.streamId, back.sequence], ["Zk3-q_9", 2 ** 40 + 7], "the server reads the exactly-once key");
  const columns = decodeColumnarReport(encodeColumnarReport(batch, 0, 1, undefined), 0);
  t.deepEqual([columns.streamId, columns.sequence], ["Zk3-q_9", 2 ** 40 + 7]);
  t.deepEqual([back.systemInfo, columns.systemInfo], [systemInfo, systemInfo], "both decoders read the failed self-update");
});

test("an all-default system info is still sent, and no points or no system info are fine", (t) => {
  const empty: SystemInfo = { hostname: "", os: "", kernel: "", arch: "", cpuCores: 0, memoryTotal: 0, diskTotal: 0, agentVersion: "" };
  const raw = decodeRaw(encodeMetricBatch({ agentId: "a", timestampMs: 1, points: [], systemInfo: empty }));
  t.deepEqual(raw.system_info, { hostname: "", os: "", kernel: "", arch: "", cpu_cores: 0, memory_total: 0, disk_total: 0, agent_version: "", update_failed_version: "", update_failure: "" });
  t.deepEqual(raw.data_points, []);
  t.deepEqual(decodeBatchProto(encodeMetricBatch({ agentId: "a", timestampMs: 1, points: [], systemInfo: empty }), 0).systemInfo, empty);
  t.false(BatchType.decode(encodeMetricBatch({ agentId: "a", timestampMs: 1, points: [] })).hasOwnProperty("system_info"));
  t.is(encodeMetricBatch({ agentId: "", timestampMs: 0, points: [] }).length, 0);
});

test("int64 fields: negative, past 2^53 and fractional numbers are encoded as protobufjs would", (t) => {
  for (const ts of [-1, -1_767_225_600_123, Number.MIN_SAFE_INTEGER, 2 ** 60, 2 ** 63, 1.9, -1.9, 2 ** 64 + 2 ** 12]) {
    const ours = decodeRaw(encodeMetricBatch({ agentId: "a", timestampMs: ts, points: [] }));
    const theirs = decodeRaw(BatchType.encode(BatchType.fromObject({ agent_id: "a", timestamp_ms: ts })).finish());
    t.is(ours.timestamp_ms, theirs.timestamp_ms, `timestamp ${ts}`);
  }
  t.is(decodeRaw(encodeMetricBatch({ agentId: "a", timestampMs: -5, points: [] })).timestamp_ms, -5);
});

test("ReportResponse from protobufjs bytes, unknown fields skipped, truncation refused", (t) => {
  for (const [success, message] of [[true, "ok"], [false, "no"], [true, ""], [false, ""], [true, "Ünïcödé 🚀 ".repeat(50)]] as const) {
    t.deepEqual(decodeReportResponse(encodeReportResponse(success, message)), { success, message });
  }
  const Extended = protobuf.parse(`syntax = "proto3";
    message R { bool success = 1; string message = 2; uint64 n = 3; double d = 4; bytes b = 5; fixed32 f = 6; sint64 s = 99; }`).root.lookupType("R");
  const bytes = Extended.encode(Extended.fromObject({ n: 2 ** 40, d: 1.5, b: Buffer.from("xyz"), f: 7, s: -3, success: true, message: "later" })).finish();
  t.deepEqual(decodeReportResponse(bytes), { success: true, message: "later" });
  const whole = encodeReportResponse(true, "truncated");
  t.throws(() => decodeReportResponse(whole.subarray(0, whole.length - 1)), { message: /truncated/ });
  t.deepEqual(decodeReportResponse(new Uint8Array()), { success: false, message: "" });
});

/** A columnar report back as a batch, through the server's decoders, as a stream would see it. */
function throughServer(frame: Uint8Array): MetricBatch {
  const { declaration } = scanFrame(frame);
  const report = decodeColumnarReport(frame, 0);
  const series = declaration ? decodeSeriesDeclaration(declaration) : [];
  const batch: MetricBatch = {
    agentId: report.agentId, timestampMs: report.timestampMs, droppedBatches: report.droppedBatches,
    points: Array.from(report.values, (value, i) => ({
      timestampMs: report.timestamps?.[i] ?? report.timestampMs, metric: series[i]![0], value, labels: series[i]![1],
    })),
  };
  if (report.systemInfo) batch.systemInfo = report.systemInfo;
  return batch;
}

test("columnar reports come out of the server's decoders as they went in, offsets included", (t) => {
  const next = random(20_261_203);
  for (let i = 0; i < 500; i++) {
    const batch = batchFrom(next, i);
    if (batch.points.length === 0) continue; // a columnar report's length comes from its values
    // Some points at their own instants (before and after the batch's), some not.
    for (const p of batch.points) if (next() < 0.3) p.timestampMs += Math.round((next() - 0.5) * 2 * 86_400_000);
    const refs: SeriesRef[] = batch.points.map((p) => [p.metric, p.labels]);
    const frame = encodeColumnarReport(batch, batch.droppedBatches!, i, refs);
    t.is(scanFrame(frame).shape, i);
    const decoded = throughServer(frame);
    t.deepEqual(decoded, batch, `batch ${i}`);
    decoded.points.forEach((p, j) => t.true(Object.is(p.value, batch.points[j]!.value), `batch ${i} point ${j}`));
  }
});

test("columnar fields sit under their proto field numbers; a report without a declaration carries no series", (t) => {
  const batch: MetricBatch = {
    agentId: "web-01", timestampMs: 1_767_225_600_000, droppedBatches: 2, streamId: "s1", sequence: 12,
    points: [
      { timestampMs: 1_767_225_600_000, metric: "disk.used", value: 12.5, labels: { mount: "/data" } },
      { timestampMs: 1_767_225_590_000, metric: "cpu.usage", value: -0.25, labels: {} },
    ],
  };
  const raw = (bytes: Uint8Array) => ColumnarType.toObject(ColumnarType.decode(bytes), { longs: Number, defaults: true, arrays: true, objects: true });
  t.deepEqual(raw(encodeColumnarReport(batch, 2, 3, batch.points.map((p) => [p.metric, p.labels]))), {
    agent_id: "web-01", shape: 3, timestamp_ms: 1_767_225_600_000, timestamp_offsets: [0, -10_000], values: [12.5, -0.25], dropped_batches: 2, stream_id: "s1", sequence: 12, check_events: [],
    series: [{ metric_name: "disk.used", labels: { mount: "/data" } }, { metric_name: "cpu.usage", labels: {} }], system_info: null,
  });
  const same = { ...batch, points: batch.points.map((p) => ({ ...p, timestampMs: batch.timestampMs })) };
  const bare = raw(encodeColumnarReport(same, 0, 3, undefined));
  t.deepEqual([bare.series, bare.timestamp_offsets, bare.values], [[], [], [12.5, -0.25]], "points at the batch's instant need no offsets");
  t.is(scanFrame(encodeColumnarReport(same, 0, 3, undefined)).declaration, undefined);
  // A batch without its own instant counts offsets from its first point's, not from 1970.
  const unstamped = raw(encodeColumnarReport({ ...batch, timestampMs: 0 }, 0, 3, undefined));
  t.deepEqual([unstamped.timestamp_ms, unstamped.timestamp_offsets], [1_767_225_600_000, [0, -10_000]]);
});

test("the server's columnar decoder takes unpacked and split runs, and refuses truncated or inconsistent reports", (t) => {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).string("a");
  w.uint32((6 << 3) | 1).double(1.5); // values unpacked, one by one
  w.uint32((6 << 3) | 2).fork().double(2.5).double(3.5).ldelim(); // then a packed run
  w.uint32((5 << 3) | 0).sint64(-7); // offsets unpacked
  w.uint32((5 << 3) | 2).fork().sint64(0).sint64(7).ldelim();
  w.uint32((4 << 3) | 0).int64(1_000);
  w.uint32((99 << 3) | 2).string("a field from a later version"); // skipped
  const report = decodeColumnarReport(w.finish(), 0);
  t.deepEqual([...report.values], [1.5, 2.5, 3.5]);
  t.deepEqual([...report.timestamps!], [993, 1_000, 1_007]);
  t.is(decodeColumnarReport(new Uint8Array(), 42).timestampMs, 42, "no timestamp: the time the server received it");

  const full = encodeColumnarReport({ agentId: "a", timestampMs: 5, points: [{ timestampMs: 5, metric: "m", value: 1, labels: {} }] }, 0, 1, [["m", {}]]);
  // Cut between two fields, the rest is a valid shorter report; cut inside one, it is refused.
  const boundaries = new Set<number>();
  for (const input = new ProtoReader(full); !input.done; boundaries.add(input.pos)) input.skip(input.tag()[1]);
  for (let cut = 1; cut < full.length; cut++) {
    const decode = () => { decodeColumnarReport(full.subarray(0, cut), 0); scanFrame(full.subarray(0, cut)); };
    if (boundaries.has(cut)) t.notThrows(decode, `cut at ${cut}`);
    else t.is((t.throws(decode, undefined, `cut at ${cut}`) as { code?: string } | undefined)?.code, "INVALID_ARGUMENT", `cut at ${cut}`);
  }
  const odd = protobuf.Writer.create().uint32((6 << 3) | 2).bytes(new Uint8Array(12)).finish();
  t.throws(() => decodeColumnarReport(odd, 0), { message: /multiple of 8/ });
});

test("ReportStream acknowledgements from the server's encoder", (t) => {
  for (const [code, message] of [[0, ""], [3, "values[2]: must be a finite number, got NaN"], [16, "Ünïcödé 🚀"]] as const) {
    t.deepEqual(decodeReportAck(encodeReportAck(code, message)), { code, message });
  }
  t.deepEqual(decodeReportAck(new Uint8Array()), { code: 0, message: "" });
});
