import { TsmonError } from "../../common/errors.ts";
import type { Labels, SystemInfo } from "../../common/metrics.ts";
import { FIXED64, LENGTH_DELIMITED, ProtoError, ProtoReader, VARINT } from "../../common/proto-reader.ts";
import type { SeriesRef } from "../../common/series-text.ts";
import type { CheckEvent } from "../../common/check-events.ts";
import { decodeCheckEventProto } from "./check-event-decode.ts";

/*
 * ColumnarReportProto (proto/metrics.proto), decoded by hand: a report is a shape number,
 * an instant and a packed run of doubles, which a schema library would turn into one JS
 * object per field. The main thread reads only the head of a frame (scanFrame); an ingest
 * thread decodes the rest (decodeColumnarReport) and, when its cache does not know the
 * shape yet, the series declaration (decodeSeriesDeclaration).
 */

const AGENT_ID = 1, SHAPE = 2, SERIES = 3, TIMESTAMP = 4, OFFSETS = 5, VALUES = 6, SYSTEM_INFO = 16, DROPPED = 17, STREAM_ID = 18, SEQUENCE = 19, CHECK_EVENTS = 20;

/** What the stream handler needs of a frame before handing it to ingest. */
export interface FrameHead {
  shape: number;
  /** The frame's `series` entries as they were encoded (a valid encoding of the repeated
   *  field on its own), or undefined when the frame declares nothing. */
  declaration: Uint8Array | undefined;
}

/** Reads a frame's shape number and its series declaration; throws INVALID_ARGUMENT when it is not protobuf. */
export function scanFrame(frame: Uint8Array): FrameHead {
  return asInvalid("ColumnarReportProto", () => {
    const input = new ProtoReader(frame);
    let shape = 0;
    const pieces: [number, number][] = [];
    while (!input.done) {
      const start = input.pos;
      const [field, wireType] = input.tag();
      if (field === SHAPE && wireType === VARINT) shape = input.varint();
      else {
        input.skip(wireType);
        if (field !== SERIES || wireType !== LENGTH_DELIMITED) continue;
        const last = pieces[pieces.length - 1];
        if (last && last[1] === start) last[1] = input.pos; // entries written back to back: one piece
        else pieces.push([start, input.pos]);
      }
    }
    if (pieces.length === 0) return { shape, declaration: undefined };
    // Copied out of the frame into a buffer of its own: the stream keeps the declaration for
    // as long as it is open, and posts it to an ingest thread with every report.
    return { shape, declaration: concat(frame, pieces) };
  });
}

/** One columnar report without its series (those come from the stream's declaration). */
export interface ColumnarReport {
  agentId: string;
  timestampMs: number;
  /** Per point, when the report has offsets; otherwise every point is at `timestampMs`. */
  timestamps: Float64Array | undefined;
  values: Float64Array;
  systemInfo: SystemInfo | undefined;
  droppedBatches: number;
  /** Empty when the agent sent none (no exactly-once key). */
  streamId: string;
  sequence: number;
  /** Empty when the frame has none. */
  checkEvents: CheckEvent[];
}

/** Decodes a frame's own fields; a missing timestamp is the time the server received it, as for ReportMetrics. */
export function decodeColumnarReport(frame: Uint8Array, nowMs: number): ColumnarReport {
  return asInvalid("ColumnarReportProto", () => {
    const input = new ProtoReader(frame);
    let agentId = "", timestampMs = 0, droppedBatches = 0, streamId = "", sequence = 0;
    let systemInfo: SystemInfo | undefined;
    const offsets = new NumberRuns(), values = new NumberRuns();
    const checkEvents: CheckEvent[] = [];
    while (!input.done) {
      const [field, wireType] = input.tag();
      if (field === AGENT_ID && wireType === LENGTH_DELIMITED) agentId = input.string();
      else if (field === TIMESTAMP && wireType === VARINT) timestampMs = int64(input.varint());
      else if (field === VALUES && wireType === LENGTH_DELIMITED) values.packedDoubles(input);
      else if (field === VALUES && wireType === FIXED64) values.push(input.double());
      else if (field === OFFSETS && wireType === LENGTH_DELIMITED) offsets.packedSints(input);
      else if (field === OFFSETS && wireType === VARINT) offsets.push(input.sint());
      else if (field === SYSTEM_INFO && wireType === LENGTH_DELIMITED) systemInfo = decodeSystemInfo(input);
      else if (field === DROPPED && wireType === VARINT) droppedBatches = input.varint();
      else if (field === STREAM_ID && wireType === LENGTH_DELIMITED) streamId = input.string();
      else if (field === SEQUENCE && wireType === VARINT) sequence = input.varint();
      else if (field === CHECK_EVENTS && wireType === LENGTH_DELIMITED) checkEvents.push(decodeCheckEventProto(input, checkEvents.length, 0));
      else input.skip(wireType);
    }
    timestampMs ||= nowMs;
    // An event without its own instant is at the report's, known only now (fields come in any order).
    for (const e of checkEvents) e.timestampMs ||= timestampMs;
    const vs = values.finish();
    let timestamps: Float64Array | undefined;
    if (offsets.length > 0) {
      if (offsets.length !== vs.length) {
        throw new TsmonError("INVALID_ARGUMENT", `timestamp_offsets: ${offsets.length} offsets for ${vs.length} values; send one per value, or none`);
      }
      timestamps = offsets.finish();
      for (let i = 0; i < timestamps.length; i++) timestamps[i] = timestamps[i]! + timestampMs;
    }
    return { agentId, timestampMs, timestamps, values: vs, systemInfo, droppedBatches, streamId, sequence, checkEvents };
  });
}

/** The series of a declaration made by scanFrame, in point order. */
export function decodeSeriesDeclaration(declaration: Uint8Array): SeriesRef[] {
  return asInvalid("series", () => {
    const input = new ProtoReader(declaration);
    const refs: SeriesRef[] = [];
    while (!input.done) {
      const [field, wireType] = input.tag();
      if (field !== SERIES || wireType !== LENGTH_DELIMITED) {
        input.skip(wireType);
        continue;
      }
      const [start, end] = input.span();
      refs.push(decodeSeries(new ProtoReader(declaration, start, end)));
    }
    return refs;
  });
}

function decodeSeries(input: ProtoReader): SeriesRef {
  let metric = "";
  const labels: Record<string, string> = {};
  while (!input.done) {
    const [field, wireType] = input.tag();
    if (field === 1 && wireType === LENGTH_DELIMITED) metric = input.string();
    else if (field === 2 && wireType === LENGTH_DELIMITED) {
      // map<string, string>: an entry message { key = 1; value = 2 }; a later key wins, as in protobuf.
      const [start, end] = input.span();
      const entry = new ProtoReader(input.bytes, start, end);
      let key = "", value = "";
      while (!entry.done) {
        const [f, w] = entry.tag();
        if (f === 1 && w === LENGTH_DELIMITED) key = entry.string();
        else if (f === 2 && w === LENGTH_DELIMITED) value = entry.string();
        else entry.skip(w);
      }
      labels[key] = value;
    } else input.skip(wireType);
  }
  return [metric, labels as Labels];
}

const SYSTEM_INFO_TEXT: Record<number, "hostname" | "os" | "kernel" | "arch"> = { 1: "hostname", 2: "os", 3: "kernel", 4: "arch" };

function decodeSystemInfo(outer: ProtoReader): SystemInfo {
  const [start, end] = outer.span();
  const input = new ProtoReader(outer.bytes, start, end);
  const info: SystemInfo = { hostname: "", os: "", kernel: "", arch: "", cpuCores: 0, memoryTotal: 0, diskTotal: 0, agentVersion: "" };
  while (!input.done) {
    const [field, wireType] = input.tag();
    const text = SYSTEM_INFO_TEXT[field];
    if (text && wireType === LENGTH_DELIMITED) info[text] = input.string();
    else if (field === 5 && wireType === VARINT) info.cpuCores = input.varint() % 2 ** 32;
    else if (field === 6 && wireType === VARINT) info.memoryTotal = input.varint();
    else if (field === 7 && wireType === VARINT) info.diskTotal = input.varint();
    else if (field === 8 && wireType === LENGTH_DELIMITED) info.agentVersion = input.string();
    else if (field === 9 && wireType === LENGTH_DELIMITED) info.updateFailedVersion = input.string();
    else if (field === 10 && wireType === LENGTH_DELIMITED) info.updateFailure = input.string();
    else input.skip(wireType);
  }
  return info;
}

/**
 * A repeated number field as it comes: nearly always one packed run (copied in one go), but
 * proto3 lets an encoder split it, or write it unpacked, and a decoder must take all of these.
 */
class NumberRuns {
  private runs: Float64Array[] = [];
  length = 0;

  packedDoubles(input: ProtoReader): void {
    const [start, end] = input.span();
    if ((end - start) % 8 !== 0) throw new ProtoError("packed doubles of a length that is not a multiple of 8");
    const run = new Float64Array((end - start) / 8);
    // A byte copy is the little-endian reading on the little-endian hosts Node runs on.
    new Uint8Array(run.buffer).set(input.bytes.subarray(start, end));
    this.add(run);
  }

  packedSints(input: ProtoReader): void {
    const [start, end] = input.span();
    const inner = new ProtoReader(input.bytes, start, end);
    const values: number[] = [];
    while (!inner.done) values.push(inner.sint());
    this.add(Float64Array.from(values));
  }

  push(value: number): void {
    this.add(Float64Array.of(value));
  }

  finish(): Float64Array {
    return this.runs.length === 1 ? this.runs[0]! : Float64Array.from(this.runs.flatMap((r) => [...r]));
  }

  private add(run: Float64Array): void {
    this.runs.push(run);
    this.length += run.length;
  }
}

/** int64 read as an unsigned varint: a negative value arrives as 2^64 − n and is out of range anyway. */
function int64(n: number): number {
  return n > Number.MAX_SAFE_INTEGER ? -1 : n;
}

function asInvalid<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof ProtoError) throw new TsmonError("INVALID_ARGUMENT", `report is not a valid ${what}: ${err.message}`);
    throw err;
  }
}

function concat(frame: Uint8Array, pieces: [number, number][]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, [s, e]) => n + e - s, 0));
  let at = 0;
  for (const [s, e] of pieces) {
    out.set(frame.subarray(s, e), at);
    at += e - s;
  }
  return out;
}
