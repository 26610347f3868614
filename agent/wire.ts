import type { MetricBatch, MetricPoint, SystemInfo } from "../common/metrics.ts";

/*
 * The protobuf wire format of the two messages the agent exchanges (proto/metrics.proto),
 * by hand: protobufjs and @grpc/proto-loader cost the agent process several megabytes of
 * resident memory to load a schema of four messages. The field numbers below are the
 * proto's and must follow it; test/agent-wire.test.ts checks them against protobufjs.
 */

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

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
  });
}

function writePoint(out: ProtoOut, p: MetricPoint, agentId: string): void {
  out.int64(1, p.timestampMs);
  out.string(2, agentId);
  out.string(3, p.metric);
  out.double(4, p.value);
  // map<string, string> is a repeated entry message { key = 1; value = 2 }.
  for (const key in p.labels) {
    const value = p.labels[key]!;
    out.message(5, () => {
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
}

/** The server's ReportResponse. */
export interface ReportResponse {
  success: boolean;
  message: string;
}

/** ReportResponse from its bytes; unknown fields are skipped, truncated input throws. */
export function decodeReportResponse(bytes: Uint8Array): ReportResponse {
  const response: ReportResponse = { success: false, message: "" };
  const input = new Reader(bytes);
  while (!input.done) {
    const tag = input.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
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

interface ProtoOut {
  string(field: number, value: string): void;
  /** int64 and uint64 from a JS number: fractions are cut off, as protobufjs does. */
  int64(field: number, value: number): void;
  uint64(field: number, value: number): void;
  double(field: number, value: number): void;
  message(field: number, body: () => void): void;
}

function encode(describe: (out: ProtoOut) => void): Buffer {
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

class Reader {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** Up to ten bytes; values past 2^53 lose precision, which no field read here can reach. */
  varint(): number {
    let value = 0;
    for (let shift = 1, i = 0; i < 10; i++, shift *= 0x80) {
      const byte = this.byte();
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
    }
    throw new Error("malformed varint");
  }

  string(): string {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.bytes.length) throw new Error("truncated message");
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.pos, length).toString("utf8");
    this.pos = end;
    return text;
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === FIXED64) this.advance(8);
    else if (wireType === LENGTH_DELIMITED) this.advance(this.varint());
    else if (wireType === FIXED32) this.advance(4);
    else throw new Error(`unsupported wire type ${wireType}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.bytes.length) throw new Error("truncated message");
    this.pos += n;
  }

  private byte(): number {
    if (this.pos >= this.bytes.length) throw new Error("truncated message");
    return this.bytes[this.pos++]!;
  }
}
