import test from "ava";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import type { CheckEvent } from "../common/check-events.ts";
import type { MetricBatch } from "../common/metrics.ts";
import { encodeColumnarReport, encodeMetricBatch } from "../agent/wire.ts";
import { decodeColumnarReport } from "../server/ingest/columnar.ts";
import { decodeBatchJson, decodeBatchProto } from "../server/ingest/decode.ts";
import { validateCheckEvents } from "../server/ingest/check-event-validate.ts";
import { ReportGatherer } from "../agent/report-gatherer.ts";
import { Spool } from "../agent/spool.ts";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/*
 * check_events (field 20) in both report messages: what the agent's hand-written encoder
 * writes comes out of each of the server's decoders unchanged, sits under the proto's
 * numbers, and bad events are refused naming the field.
 */

const schema = new protobuf.Root().loadSync(fileURLToPath(new URL("../proto/metrics.proto", import.meta.url)), { keepCase: true });
const BatchType = schema.lookupType("oxmon.MetricBatchProto");

const NOW = 1_767_225_600_000;
const EVENTS: CheckEvent[] = [
  { check: "db", type: "tcp", target: "db:5432", timestampMs: NOW - 2_000, kind: "first", up: true },
  { check: "db", type: "tcp", target: "db:5432", timestampMs: NOW - 1_000, kind: "down", up: false, reasonCode: "refused", reasonMessage: "connect to db:5432: ECONNREFUSED" },
  {
    check: "db", type: "tcp", target: "db:5432", timestampMs: NOW - 500, kind: "traceroute", up: false, hops: [
      { ttl: 1, address: "10.0.0.1", rttsMs: [0.25, null, 0.5] },
      { ttl: 2, rttsMs: [null, null, null] },
      { ttl: 3, address: "2001:db8::1", rttsMs: [12.5] },
    ],
  },
  { check: "dns", type: "dns", target: "example.org", timestampMs: NOW, kind: "up", up: true, detail: "A 93.184.216.34" },
];

const batch: MetricBatch = {
  agentId: "web-01", timestampMs: NOW, droppedBatches: 0, streamId: "s1", sequence: 4,
  points: [{ timestampMs: NOW, metric: "check.up", value: 1, labels: { check: "db", type: "tcp", target: "db:5432" } }],
  checkEvents: EVENTS,
};

test("check events come out of the ReportMetrics, ReportStream and JSON decoders as the agent sent them", (t) => {
  t.deepEqual(decodeBatchProto(encodeMetricBatch(batch), 0).checkEvents, EVENTS);
  t.deepEqual(decodeColumnarReport(encodeColumnarReport(batch, 0, 1, undefined), 0).checkEvents, EVENTS);
  // The JSON report (agent/http-sender.ts's shape): kind by name, null for a probe without answer.
  const json = {
    agent_id: "web-01", timestamp_ms: NOW, data_points: [{ metric_name: "check.up", value: 1 }],
    check_events: EVENTS.map((e) => ({
      check: e.check, type: e.type, target: e.target, timestamp_ms: e.timestampMs, kind: e.kind, up: e.up,
      reason_code: e.reasonCode, reason_message: e.reasonMessage, detail: e.detail,
      hops: e.hops?.map((h) => ({ ttl: h.ttl, address: h.address, rtt_ms: h.rttsMs })),
    })),
  };
  t.deepEqual(decodeBatchJson(json, 0).checkEvents, EVENTS);
});

test("check event fields sit under the proto's numbers; a timeout is a negative rtt on the wire", (t) => {
  const raw = BatchType.toObject(BatchType.decode(encodeMetricBatch(batch)), { longs: Number, enums: String, defaults: true, arrays: true });
  t.is(raw.check_events.length, 4);
  t.like(raw.check_events[1], { check: "db", type: "tcp", target: "db:5432", timestamp_ms: NOW - 1_000, kind: "CHECK_EVENT_DOWN", up: false, reason_code: "refused" });
  t.deepEqual(raw.check_events[2].hops[0], { ttl: 1, address: "10.0.0.1", rtt_ms: [0.25, -1, 0.5] });
  t.deepEqual(raw.check_events[2].hops[1], { ttl: 2, address: "", rtt_ms: [-1, -1, -1] });
  t.is(raw.check_events[2].kind, "CHECK_EVENT_TRACEROUTE");
});

test("an event without its own instant takes the report's; an unknown kind is refused naming the field", (t) => {
  const undated = { ...batch, checkEvents: [{ ...EVENTS[0]!, timestampMs: 0 }] };
  t.is(decodeColumnarReport(encodeColumnarReport(undated, 0, 1, undefined), 0).checkEvents[0]!.timestampMs, NOW);
  t.is(decodeBatchProto(encodeMetricBatch(undated), 0).checkEvents![0]!.timestampMs, NOW);
  const bytes = BatchType.encode(BatchType.fromObject({ agent_id: "a", check_events: [{ check: "x", kind: 0 }] })).finish();
  t.throws(() => decodeBatchProto(bytes, 0), { message: /check_events\[0\]\.kind: 0 is not one of/ });
  t.throws(() => decodeBatchJson({ agent_id: "a", data_points: [], check_events: [{ check: "x", kind: "sideways" }] }, 0), { message: /check_events\[0\]\.kind/ });
});

test("validation bounds hops, strings and instants, naming the field", (t) => {
  const hop = { ttl: 1, address: "10.0.0.1", rttsMs: [1] };
  const trace = (hops: CheckEvent["hops"]): CheckEvent => ({ ...EVENTS[2]!, hops });
  t.notThrows(() => validateCheckEvents(EVENTS, NOW, 7));
  const cases: [CheckEvent[], RegExp][] = [
    [[trace(Array.from({ length: 65 }, (_, i) => ({ ...hop, ttl: i + 1 })))], /check_events\[0\]\.hops: 65 hops exceed the limit of 64/],
    [[trace([{ ...hop, ttl: 0 }])], /hops\[0\]\.ttl: must be an integer from 1 to 255/],
    [[trace([{ ...hop, address: "x".repeat(300) }])], /hops\[0\]\.address: longer than 255/],
    [[trace([{ ...hop, rttsMs: [Infinity] }])], /hops\[0\]\.rtt_ms\[0\]: must be a finite number/],
    [[{ ...EVENTS[0]!, hops: [hop] }], /only a traceroute event has hops/],
    [[{ ...EVENTS[0]!, check: "" }], /check_events\[0\]\.check: must be 1 to 128/],
    [[{ ...EVENTS[0]!, check: "has space" }], /check_events\[0\]\.check/],
    [[{ ...EVENTS[0]!, target: "t".repeat(257) }], /\.target: longer than 256/],
    [[{ ...EVENTS[1]!, reasonMessage: "m".repeat(1_025) }], /\.reason_message: longer than 1024/],
    [[{ ...EVENTS[1]!, reasonCode: "bad\ncode" }], /\.reason_code: contains control characters/],
    [[{ ...EVENTS[0]!, timestampMs: NOW + 3_600_000 }], /timestamp_ms: is more than 5 minutes in the future/],
    [Array.from({ length: 1_001 }, () => EVENTS[0]!), /check_events: 1001 events exceed the limit of 1000/],
  ];
  for (const [events, message] of cases) t.throws(() => validateCheckEvents(events, NOW, 7), { message }, String(message));
});

test("the report gatherer carries events and starts a new report before 1,000 of them", (t) => {
  const reports: MetricBatch[] = [];
  const gatherer = new ReportGatherer(3, (r) => reports.push(r));
  const many = Array.from({ length: 600 }, () => EVENTS[0]!);
  gatherer.add({ ...batch, checkEvents: many });
  gatherer.add({ ...batch, checkEvents: many });
  gatherer.add({ ...batch, checkEvents: [EVENTS[1]!] });
  gatherer.flush();
  t.deepEqual(reports.map((r) => r.checkEvents?.length), [600, 601]);
  t.is(many.length, 600, "the collection's own list is not changed");
});

test("the disk spool keeps a report's events across a restart; a record from before events existed reads as none", (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-spool-events-"));
  try {
    const spool = Spool.open({ dir, maxBytes: 2 ** 20 });
    const { sequence: withEvents } = spool.append(batch);
    const { checkEvents: _, ...older } = batch;
    spool.append(older);
    spool.close();
    const again = Spool.open({ dir, maxBytes: 2 ** 20 });
    const first = again.peek()!;
    t.is(first.sequence, withEvents);
    t.deepEqual(first.batch.checkEvents, EVENTS);
    again.remove(first.sequence);
    t.is(again.peek()!.batch.checkEvents, undefined);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
