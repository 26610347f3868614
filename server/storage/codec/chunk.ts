import { brotliCompressSync, brotliDecompressSync, constants } from "node:zlib";
import type { Labels } from "../../../common/metrics.ts";
import { ByteReader, ByteWriter } from "./bytes.ts";
import { readTimestamps, readTimestampsInto, readValues, readValuesInto, writeTimestamps, writeValues } from "./columns.ts";

/*
 * Blocks of a sealed day, each brotli-compressed on its own so one series is read without
 * the others: an agent's report timestamps (once: every series of a report shares them),
 * and per series its name, labels, which reports it appears in (all, or a bitmap) and its
 * value column. Format version 1:
 *
 *   timestamp block: version · timestamps column
 *   series block:    version · metric · labels JSON · presence (0 = every report, 1 + bitmap) · value column
 */

const VERSION = 1;
const BROTLI = { params: { [constants.BROTLI_PARAM_QUALITY]: 7 } };

export interface SeriesBlock {
  metric: string;
  labels: Labels;
  /** One per report timestamp of the agent; undefined where the series is absent from that report. */
  values: ArrayLike<number | undefined>;
}

export function encodeTimestampBlock(timestamps: ArrayLike<number>): Uint8Array {
  const w = new ByteWriter();
  w.byte(VERSION);
  writeTimestamps(w, timestamps);
  return brotliCompressSync(w.finish(), BROTLI);
}

export function decodeTimestampBlock(bytes: Uint8Array): Float64Array {
  const r = reader(bytes);
  return readTimestamps(r);
}

export function encodeSeriesBlock(series: SeriesBlock): Uint8Array {
  const w = new ByteWriter();
  w.byte(VERSION);
  w.string(series.metric);
  w.string(JSON.stringify(series.labels));
  writeSeriesValues(w, series.values);
  return brotliCompressSync(w.finish(), BROTLI);
}

/**
 * A series block of an hour chunk (chunks.ts): its values only — the series is named by its
 * index entry — and not compressed: on an hour's 360 values the column encodings leave
 * brotli nothing to take (measured: 0.910 B/point with it, 0.898 without), and reading skips
 * the decompression.
 */
export function encodeBareSeriesBlock(values: ArrayLike<number | undefined>): Uint8Array {
  const w = new ByteWriter();
  writeSeriesValues(w, values);
  return w.finish();
}

/** The values of a bare series block, aligned to the chunk's `reports` timestamps. */
export function decodeBareSeriesBlock(bytes: Uint8Array, reports: number, metric: string, labels: Labels): SeriesBlock {
  return { metric, labels, values: readSeriesValues(new ByteReader(bytes), reports, metric) };
}

/**
 * The values of a bare series block for reports [from, to) only, decoded into `scratch` (at
 * least `reports` long) when the series is in every report: what a fleet read takes and
 * drops at once. Values outside the range are unspecified.
 */
export function decodeBareSeriesRange(bytes: Uint8Array, reports: number, metric: string, scratch: Float64Array, from: number, to: number): ArrayLike<number | undefined> {
  const r = new ByteReader(bytes);
  if (bytes[0] !== 0) return readSeriesValues(r, reports, metric);
  r.byte();
  const count = r.uvarint();
  if (count !== reports) throw new RangeError(`series ${metric} was sealed for another timestamp block`);
  return readValuesInto(r, count, scratch, from, to);
}

/** An hour chunk's timestamps, not compressed (see encodeBareSeriesBlock). */
export function encodeBareTimestampBlock(timestamps: ArrayLike<number>): Uint8Array {
  const w = new ByteWriter();
  writeTimestamps(w, timestamps);
  return w.finish();
}

export function decodeBareTimestampBlock(bytes: Uint8Array, scratch?: Float64Array): Float64Array {
  const r = new ByteReader(bytes);
  return scratch ? readTimestampsInto(r, scratch) : readTimestamps(r);
}

/** Which reports a series appears in (all, or a bitmap), then its present values. */
function writeSeriesValues(w: ByteWriter, values: ArrayLike<number | undefined>): void {
  const present = presentValues(values);
  if (present.length === values.length) w.byte(0);
  else {
    w.byte(1);
    w.uvarint(values.length);
    const bitmap = new Uint8Array(Math.ceil(values.length / 8));
    for (let i = 0; i < values.length; i++) if (values[i] !== undefined) bitmap[i >> 3]! |= 1 << (i & 7);
    w.bytes(bitmap);
  }
  w.uvarint(present.length);
  writeValues(w, present);
}

/** A series' values without its gaps, in report order. */
export function presentValues(values: ArrayLike<number | undefined>): number[] {
  const present: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] !== undefined) present.push(values[i]!);
  return present;
}

/** The series, its values aligned to the agent's `reports` timestamps. */
export function decodeSeriesBlock(bytes: Uint8Array, reports: number): SeriesBlock {
  const r = reader(bytes);
  const metric = r.string();
  const labels = JSON.parse(r.string()) as Labels;
  return { metric, labels, values: readSeriesValues(r, reports, metric) };
}

function readSeriesValues(r: ByteReader, reports: number, metric: string): ArrayLike<number | undefined> {
  const all = r.byte() === 0;
  let bitmap: Uint8Array | null = null;
  if (!all) {
    if (r.uvarint() !== reports) throw new RangeError(`series ${metric} was sealed for another timestamp block`);
    bitmap = r.bytes(Math.ceil(reports / 8));
  }
  const present = readValues(r, r.uvarint());
  if (all && present.length !== reports) throw new RangeError(`series ${metric} was sealed for another timestamp block`);
  // Present in every report (the usual case): the decoded column as it is.
  if (all) return present;
  let next = 0;
  const values = new Array<number | undefined>(reports);
  for (let i = 0; i < reports; i++) values[i] = !bitmap || bitmap[i >> 3]! & (1 << (i & 7)) ? present[next++] : undefined;
  return values;
}

function reader(bytes: Uint8Array): ByteReader {
  const r = new ByteReader(brotliDecompressSync(bytes));
  const version = r.byte();
  if (version !== VERSION) throw new RangeError(`sealed block format ${version} is not known to this version of tsmon`);
  return r;
}

/** Per-bucket aggregates of one series at one resolution (buckets start at multiples of it since the epoch). */
export interface RollupBlock {
  metric: string;
  labels: Labels;
  starts: ArrayLike<number>;
  min: ArrayLike<number>;
  max: ArrayLike<number>;
  sum: ArrayLike<number>;
  count: ArrayLike<number>;
}

export function encodeRollupBlock(r: RollupBlock): Uint8Array {
  const w = new ByteWriter();
  w.byte(VERSION);
  w.string(r.metric);
  w.string(JSON.stringify(r.labels));
  writeTimestamps(w, r.starts);
  for (const column of [r.min, r.max, r.sum, r.count]) writeValues(w, column);
  return brotliCompressSync(w.finish(), BROTLI);
}

export function decodeRollupBlock(bytes: Uint8Array): RollupBlock {
  const r = reader(bytes);
  const metric = r.string();
  const labels = JSON.parse(r.string()) as Labels;
  const starts = readTimestamps(r);
  const [min, max, sum, count] = [0, 1, 2, 3].map(() => readValues(r, starts.length)) as [Float64Array, Float64Array, Float64Array, Float64Array];
  return { metric, labels, starts, min, max, sum, count };
}
