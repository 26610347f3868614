import { CHECK_EVENT_KIND_NUMBER, NO_ANSWER_RTT, type CheckEvent } from "../common/check-events.ts";
import type { MetricBatch, MetricPoint, SystemInfo } from "../common/metrics.ts";
import { FIXED64, LENGTH_DELIMITED, ProtoReader, VARINT } from "../common/proto-reader.ts";
import type { SeriesRef } from "../common/series-text.ts";

/*
 * The protobuf wire format of the messages the agent exchanges (proto/metrics.proto),
 * by hand: protobufjs and @grpc/proto-loader cost the agent process several megabytes of
 * resident memory to load a schema of four messages. The field numbers below are the
 * proto's and must follow it; test/agent-wire.test.ts checks them against protobufjs.
 */

/** MetricBatchProto, with `droppedBatches` as its dropped_batches field. */
export function encodeMetricBatch(batch: MetricBatch, droppedBatches = batch.droppedBatches ?? 0): Buffer {
  return encode((out) => {
    out.string(1, batch.agentId);
    out.int64(2, batch.timestampMs);
    // Every point repeats the agent id: optional for tsmon, but an oxmon server reads it from the point.
    for (const p of batch.points) out.message(3, () => writePoint(out, p, batch.agentId));
    const info = batch.systemInfo;
    if (info) out.message(16, () => writeSystemInfo(out, info));
    out.uint64(17, droppedBatches);
    writeReportKey(out, batch);
  });
}

/** stream_id and sequence (18, 19), then check_events (20): the same numbers in both report messages. */
function writeReportKey(out: ProtoOut, batch: MetricBatch): void {
  if (batch.streamId) {
    out.string(18, batch.streamId);
    out.uint64(19, batch.sequence ?? 0);
  }
  for (const e of batch.checkEvents ?? []) out.message(20, () => writeCheckEvent(out, e));
}

function writeCheckEvent(out: ProtoOut, e: CheckEvent): void {
  out.string(1, e.check);
  out.string(2, e.type);
  out.string(3, e.target);
  out.int64(4, e.timestampMs);
  out.uint64(5, CHECK_EVENT_KIND_NUMBER[e.kind]);
  out.uint64(6, e.up ? 1 : 0);
  out.string(7, e.reasonCode ?? "");
  out.string(8, e.reasonMessage ?? "");
  out.string(9, e.detail ?? "");
  for (const hop of e.hops ?? []) {
    out.message(10, () => {
      out.uint64(1, hop.ttl);
      out.string(2, hop.address ?? "");
      out.packedDouble(3, hop.rttsMs.map((rtt) => rtt ?? NO_ANSWER_RTT));
    });
  }
}

function writePoint(out: ProtoOut, p: MetricPoint, agentId: string): void {
  out.int64(1, p.timestampMs);
  out.string(2, agentId);
  out.string(3, p.metric);
  out.double(4, p.value);
  writeLabels(out, 5, p.labels);
}

function writeLabels(out: ProtoOut, field: number, labels: MetricPoint["labels"]): void {
  // map<string, string> is a repeated entry message { key = 1; value = 2 }.
  for (const key in labels) {
    const value = labels[key]!;
    out.message(field, () => {
      out.string(1, key);
      out.string(2, value);
    });
  }
}

function writeSystemInfo(out: ProtoOut, s: SystemInfo): void {
  out.string(1, s.hostname);
  out.string(2, s.os);
  out.string(3, s.kernel);
  out.string(4, s.arch);
  // uint32 on the wire is the same varint as uint64.
  out.uint64(5, s.cpuCores);
  out.uint64(6, s.memoryTotal);
  out.uint64(7, s.diskTotal);
  out.string(8, s.agentVersion);
  if (s.updateFailedVersion) {
    out.string(9, s.updateFailedVersion);
    out.string(10, s.updateFailure ?? "");
  }
}

/**
 * ColumnarReportProto: `shape` is the stream's number for the batch's series; `declare`
 * sends the series with it (the first time on a stream, or when the number is reused).
 * Points at the batch's own instant need no offsets; otherwise every point gets one.
 */
export function encodeColumnarReport(batch: MetricBatch, droppedBatches: number, shape: number, declare: readonly SeriesRef[] | undefined): Buffer {
  const points = batch.points;
  const values = points.map((p) => p.value);
  // The instant the offsets count from: a server reads a missing (0) one as its own clock.
  const at = batch.timestampMs || (points[0]?.timestampMs ?? 0);
  const offsets = points.every((p) => p.timestampMs === at) ? [] : points.map((p) => p.timestampMs - at);
  return encode((out) => {
    out.string(1, batch.agentId);
    out.uint64(2, shape);
    if (declare) {
      for (const [metric, labels] of declare) {
        out.message(3, () => {
          out.string(1, metric);
          writeLabels(out, 2, labels);
        });
      }
    }
    out.int64(4, at);
    out.packedSint64(5, offsets);
    out.packedDouble(6, values);
    const info = batch.systemInfo;
    if (info) out.message(16, () => writeSystemInfo(out, info));
    out.uint64(17, droppedBatches);
    writeReportKey(out, batch);
  });
}

/** One acknowledgement of ReportStream: a gRPC status code and its message. */
export interface ReportAck {
  code: number;
  message: string;
}

export function decodeReportAck(bytes: Uint8Array): ReportAck {
  const ack: ReportAck = { code: 0, message: "" };
  const input = new ProtoReader(bytes);
  while (!input.done) {
    const [field, wireType] = input.tag();
    if (field === 1 && wireType === VARINT) ack.code = input.varint();
    else if (field === 2 && wireType === LENGTH_DELIMITED) ack.message = input.string();
    else input.skip(wireType);
  }
  return ack;
}

/** The server's ReportResponse. */
export interface ReportResponse {
  success: boolean;
  message: string;
}

/** ReportResponse from its bytes; unknown fields are skipped, truncated input throws. */
export function decodeReportResponse(bytes: Uint8Array): ReportResponse {
  const response: ReportResponse = { success: false, message: "" };
  const input = new ProtoReader(bytes);
  while (!input.done) {
    const [field, wireType] = input.tag();
    if (field === 1 && wireType === VARINT) response.success = input.varint() !== 0;
    else if (field === 2 && wireType === LENGTH_DELIMITED) response.message = input.string();
    else input.skip(wireType);
  }
  return response;
}

/*
 * Encoding runs the message's description twice: once to measure (every string's byte
 * length and every nested message's length, in order), once to write into a buffer of
 * exactly the right size, taking those lengths back in the same order. One description
 * of the layout, no copying of nested messages.
 */

export interface ProtoOut {
  string(field: number, value: string): void;
  /** int64 and uint64 from a JS number: fractions are cut off, as protobufjs does. */
  int64(field: number, value: number): void;
  uint64(field: number, value: number): void;
  double(field: number, value: number): void;
  /** Repeated double, packed; nothing when empty. */
  packedDouble(field: number, values: readonly number[]): void;
  /** Repeated sint64 (zigzag), packed; nothing when empty. */
  packedSint64(field: number, values: readonly number[]): void;
  message(field: number, body: () => void): void;
}

export function encode(describe: (out: ProtoOut) => void): Buffer {
  const sizer = new Sizer();
  describe(sizer);
  const writer = new Writer(sizer.size, sizer.lengths);
  describe(writer);
  return writer.finish();
}

/*
 * Proto3 leaves out fields that hold their default (0, "", false): so do these. A double
 * of -0 is not the default and is written.
 */
const isDefaultDouble = (value: number) => Object.is(value, 0);

class Sizer implements ProtoOut {
  size = 0;
  readonly lengths: number[] = [];

  string(field: number, value: string): void {
    if (value === "") return;
    const length = Buffer.byteLength(value, "utf8");
    this.lengths.push(length);
    this.size += tagSize(field) + varintSize(length) + length;
  }

  int64(field: number, value: number): void {
    const n = Math.trunc(value);
    if (n === 0 || !Number.isFinite(n)) return;
    this.size += tagSize(field) + (isPlainVarint(n) ? varintSize(n) : wrappedVarint(n).length);
  }

  uint64(field: number, value: number): void {
    this.int64(field, value);
  }

  double(field: number, value: number): void {
    if (!isDefaultDouble(value)) this.size += tagSize(field) + 8;
  }

  packedDouble(field: number, values: readonly number[]): void {
    if (values.length) this.size += tagSize(field) + varintSize(values.length * 8) + values.length * 8;
  }

  packedSint64(field: number, values: readonly number[]): void {
    if (!values.length) return;
    let length = 0;
    for (const v of values) length += varintSize(zigzag(v));
    this.lengths.push(length);
    this.size += tagSize(field) + varintSize(length) + length;
  }

  message(field: number, body: () => void): void {
    const slot = this.lengths.push(0) - 1;
    const start = this.size;
    body();
    const length = this.size - start;
    this.lengths[slot] = length;
    this.size += tagSize(field) + varintSize(length);
  }
}

class Writer implements ProtoOut {
  private readonly buffer: Buffer;
  private pos = 0;
  private next = 0;

  constructor(size: number, private readonly lengths: readonly number[]) {
    this.buffer = Buffer.alloc(size);
  }

  string(field: number, value: string): void {
    if (value === "") return;
    this.tag(field, LENGTH_DELIMITED);
    const length = this.lengths[this.next++]!;
    this.varint(length);
    this.pos += this.buffer.write(value, this.pos, length, "utf8");
  }

  int64(field: number, value: number): void {
    const n = Math.trunc(value);
    if (n === 0 || !Number.isFinite(n)) return;
    this.tag(field, VARINT);
    if (isPlainVarint(n)) this.varint(n);
    else for (const byte of wrappedVarint(n)) this.buffer[this.pos++] = byte;
  }

  uint64(field: number, value: number): void {
    this.int64(field, value);
  }

  double(field: number, value: number): void {
    if (isDefaultDouble(value)) return;
    this.tag(field, FIXED64);
    this.pos = this.buffer.writeDoubleLE(value, this.pos);
  }

  packedDouble(field: number, values: readonly number[]): void {
    if (!values.length) return;
    this.tag(field, LENGTH_DELIMITED);
    this.varint(values.length * 8);
    for (const v of values) this.pos = this.buffer.writeDoubleLE(v, this.pos);
  }

  packedSint64(field: number, values: readonly number[]): void {
    if (!values.length) return;
    this.tag(field, LENGTH_DELIMITED);
    this.varint(this.lengths[this.next++]!);
    for (const v of values) this.varint(zigzag(v));
  }

  message(field: number, body: () => void): void {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(this.lengths[this.next++]!);
    body();
  }

  finish(): Buffer {
    // The two passes disagreeing would be a bug here, not bad input: fail loudly.
    if (this.pos !== this.buffer.length || this.next !== this.lengths.length) {
      throw new Error(`protobuf encoder: wrote ${this.pos} of ${this.buffer.length} bytes`);
    }
    return this.buffer;
  }

  private tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** Non-negative integers up to 2^53, seven bits a byte; division, as bit operators stop at 32 bits. */
  private varint(n: number): void {
    while (n >= 0x80) {
      this.buffer[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buffer[this.pos++] = n;
  }
}

/** sint64's zigzag mapping of an integer of magnitude below 2^52: 0, -1, 1, -2 → 0, 1, 2, 3. */
function zigzag(n: number): number {
  const i = Math.trunc(n);
  return i >= 0 ? i * 2 : -i * 2 - 1;
}

/** Timestamps and counts: integers the fast, number-only varint path handles exactly. */
function isPlainVarint(n: number): boolean {
  return n >= 0 && n <= Number.MAX_SAFE_INTEGER;
}

/**
 * Any other integer as protobuf sees an int64: its 64-bit two's complement (ten bytes
 * when negative), wrapped modulo 2^64 like protobufjs. Rare enough for BigInt.
 */
function wrappedVarint(n: number): number[] {
  let bits = BigInt.asUintN(64, BigInt(n));
  const bytes: number[] = [];
  while (bits >= 0x80n) {
    bytes.push(Number(bits & 0x7fn) | 0x80);
    bits >>= 7n;
  }
  bytes.push(Number(bits));
  return bytes;
}

function tagSize(field: number): number {
  return varintSize(field * 8);
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}
