import type { RootDatabase } from "lmdb";
import { parseSeriesKey, seriesKey, type Labels } from "../../common/metrics.ts";
import { Buckets } from "../query/aggregate.ts";
import { decimalExponent } from "./codec/columns.ts";
import { countBefore } from "./sorted-search.ts";
import {
  decodeBareSeriesBlock, decodeBareSeriesRange, decodeBareTimestampBlock, decodeRollupBlock, decodeSeriesBlock, decodeTimestampBlock, encodeBareSeriesBlock,
  encodeBareTimestampBlock, encodeRollupBlock, encodeSeriesBlock, encodeTimestampBlock, presentValues, type RollupBlock, type SeriesBlock,
} from "./codec/chunk.ts";

/*
 * A sealed day (`sealed/<day>.v<N>.mdb`, holding raw generations 0..N): one record per
 * agent, key = agent id, so an agent-day fills whole LMDB pages rather than leaving one
 * half-empty page per series. The record is an index and the blocks of codec/chunk.ts, each
 * compressed on its own, so reading one series decompresses only that block. Rollups at 1 min
 * and 1 h (min, max, sum, count per bucket) are kept beside it in the same layout (RollupDay),
 * so a query with a step of whole minutes or hours reads buckets, not points:
 *
 *   u8 version · u32 entry count · per entry: u8 kind (series, 1 min, 1 h) · u16 key length
 *   · series key (UTF-8) · u32 block length · u32 timestamp block length · timestamp block
 *   · blocks in index order
 *
 * Version 1 (sealed days, rollups): each block brotli-compressed and naming its series.
 * Version 2 (hour chunks, chunks.ts): bare blocks — the series named by its index key only,
 * nothing compressed (see encodeBareSeriesBlock) — and the index front-coded: entries sorted
 * by key, each key stored as the length of the prefix it shares with the one before (u8) and
 * the rest (`cpu.core_usage{core="17"}` after `…core="16"}` costs 3 bytes, not 25):
 *
 *   per entry: u8 kind · u8 shared prefix length · u16 suffix length · suffix · u32 block length
 */

const RECORD_VERSION = 1;
const BARE_RECORD_VERSION = 2;
const SERIES = 0;
/** Rollup resolutions, by entry kind. */
export const ROLLUPS = [[1, 60_000], [2, 3_600_000]] as const;

interface Entry { kind: number; key: string; block: Uint8Array }

export class SealedDay {
  constructor(readonly env: RootDatabase, readonly through: number) {}

  agents(): string[] {
    return [...this.env.getKeys({})] as string[];
  }

  /**
   * The agent's report timestamps and its series (with `metric`: only that metric's),
   * values aligned to them. Decompresses only the blocks asked for.
   */
  read(agentId: string, metric?: string, labelFilter: Labels = {}): { timestamps: Float64Array; series: SeriesBlock[] } | undefined {
    return readColumns(this.env, agentId, metric, labelFilter);
  }
}

/**
 * The timestamps and series (with `metric`: only that metric's) of the agent record under
 * `key` in a sealed day or a chunk environment, or undefined when there is none.
 */
export function readColumns(env: RootDatabase, key: string | [string, number], metric?: string, labelFilter: Labels = {}): { timestamps: Float64Array; series: SeriesBlock[] } | undefined {
  let timestamps: Float64Array = new Float64Array(0), bare = false;
  const entries = readEntries(env, key, SERIES, metric === undefined ? undefined : [metric], labelFilter, (ts, version) => {
    bare = version === BARE_RECORD_VERSION;
    timestamps = bare ? decodeBareTimestampBlock(ts) : decodeTimestampBlock(ts);
  });
  const series = entries?.map((e) => {
    if (!bare) return decodeSeriesBlock(e.block, timestamps.length);
    const { metric: name, labels } = parsedKey(e.key);
    return decodeBareSeriesBlock(e.block, timestamps.length, name, labels);
  });
  return series && { timestamps, series };
}

/** A series a chunk visit hands over: its values valid for reports [first, end) and only until the visit returns. */
export type SeriesVisit = (metric: string, labels: Labels, values: ArrayLike<number | undefined>) => void;

/** Reused by every visit on this thread (a fleet read decodes thousands of hour columns and keeps none). */
let visitScratch = new Float64Array(512);
/** The same for each chunk's timestamps (an hour at 10 s is 360; grown for denser ones). */
let timestampScratch = new Float64Array(512);

/**
 * Visits the series of `metrics` in the hour chunk under `key` whose reports fall in
 * [fromMs, toMs]: `range` first gets the chunk's timestamps and the slice [first, end) in
 * range, then `visit` each series, decoded for that slice alone into a buffer reused for
 * the next. The timestamps too are valid only until the visit returns. False when there is
 * no such chunk.
 */
export function visitChunk(env: RootDatabase, key: [string, number], metrics: readonly string[], labelFilter: Labels, fromMs: number, toMs: number,
  range: (timestamps: Float64Array, first: number, end: number) => void, visit: SeriesVisit): boolean {
  let timestamps: Float64Array = new Float64Array(0);
  const entries = readEntries(env, key, SERIES, metrics, labelFilter, (ts, version) => {
    if (version !== BARE_RECORD_VERSION) throw new RangeError("visitChunk reads hour chunks, not sealed days");
    timestamps = decodeBareTimestampBlock(ts, timestampScratch);
    if (timestamps.buffer !== timestampScratch.buffer) timestampScratch = new Float64Array(2 * timestamps.length);
  });
  if (!entries) return false;
  const first = countBefore(timestamps, fromMs, false), end = countBefore(timestamps, toMs, true);
  range(timestamps, first, end);
  if (first === end) return true;
  if (visitScratch.length < timestamps.length) visitScratch = new Float64Array(2 * timestamps.length);
  for (const e of entries) {
    const { metric, labels } = parsedKey(e.key);
    visit(metric, labels, decodeBareSeriesRange(e.block, timestamps.length, metric, visitScratch, first, end));
  }
  return true;
}

/**
 * The rollups of a sealed day (`rollups/<day>.mdb`): one record per agent in the same layout,
 * with rollup entries only and an empty timestamp block. Kept apart from the sealed values,
 * so they cost nothing in a sealed partition's size and can be kept on their own terms.
 * Written before the sealed version they belong to is put in place.
 */
export class RollupDay {
  constructor(readonly env: RootDatabase) {}

  /** The rollups of `metric`'s series at `resolutionMs` (one of ROLLUPS), or undefined for an unknown agent. */
  rollups(agentId: string, metric: string, labelFilter: Labels, resolutionMs: number): RollupBlock[] | undefined {
    const kind = ROLLUPS.find(([, ms]) => ms === resolutionMs)![0];
    return readEntries(this.env, agentId, kind, [metric], labelFilter)?.map((e) => decodeRollupBlock(e.block));
  }
}

/**
 * The entries of one kind of any of `metrics` (all: undefined) matching the label filter,
 * read in place (no copy of the agent-day; valid only until the next read on this thread,
 * so callers decode at once).
 */
function readEntries(env: RootDatabase, key: string | [string, number], kind: number, metrics: readonly string[] | undefined, labelFilter: Labels, onTimestamps?: (block: Uint8Array, version: number) => void): Entry[] | undefined {
  const buffer = env.getBinaryFast(key);
  if (!buffer) return undefined;
  // A plain Uint8Array view: a Buffer's subarray makes a Buffer object each time, and a
  // fleet read takes thousands of them.
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(0);
  if (version !== RECORD_VERSION && version !== BARE_RECORD_VERSION) throw new RangeError(`sealed record format ${version} is not known to this version of tsmon`);
  const pairs = labelPairs(labelFilter);
  const count = view.getUint32(1);
  let at = 5, offset = 0;
  const wanted: { key: string; skip: number; length: number }[] = [];
  const names = metrics?.map(metricBytes);
  const frontCoded = version === BARE_RECORD_VERSION;
  // Front-coded keys are rebuilt here, each from the one before, byte by byte (suffixes are
  // a few bytes: a copy through subarray() would allocate a view per entry).
  let keyBytes = frontCoded ? frontCodedKey : bytes, keyAt = 0, keyLength = 0;
  for (let i = 0; i < count; i++) {
    const entryKind = view.getUint8(at);
    let length: number;
    if (frontCoded) {
      const shared = view.getUint8(at + 1), suffix = view.getUint16(at + 2);
      if (shared + suffix > keyBytes.length) {
        const grown = new Uint8Array(2 * (shared + suffix));
        grown.set(keyBytes.subarray(0, shared));
        keyBytes = frontCodedKey = grown;
      }
      for (let b = 0; b < suffix; b++) keyBytes[shared + b] = bytes[at + 4 + b]!;
      keyLength = shared + suffix;
      length = view.getUint32(at + 4 + suffix);
      at += 8 + suffix;
    } else {
      keyLength = view.getUint16(at + 1);
      keyAt = at + 3;
      length = view.getUint32(at + 3 + keyLength);
      at += 7 + keyLength;
    }
    // Keys of other metrics are passed over on their bytes, without decoding them (a fleet
    // read looks at every series key of a thousand agent-hours for one metric's).
    if (entryKind === kind) {
      if (names === undefined) wanted.push({ key: decoder.decode(keyBytes.subarray(keyAt, keyAt + keyLength)), skip: offset, length });
      else {
        for (let m = 0; m < names.length; m++) {
          if (!startsWithMetric(keyBytes, keyAt, keyLength, names[m]!)) continue;
          const key = decoder.decode(keyBytes.subarray(keyAt, keyAt + keyLength));
          if (matches(key, metrics![m]!, pairs)) wanted.push({ key, skip: offset, length });
          break;
        }
      }
    }
    offset += length;
  }
  const tsLength = view.getUint32(at);
  onTimestamps?.(bytes.subarray(at + 4, at + 4 + tsLength), version);
  const blocksAt = at + 4 + tsLength;
  return wanted.map(({ key, skip, length }) => ({ kind, key, block: bytes.subarray(blocksAt + skip, blocksAt + skip + length) }));
}

/**
 * Series keys parsed once per process: the same few hundred keys name the series of every
 * agent-hour, and a fleet read parses thousands of them. Frozen: every reader shares them.
 */
const parsedKeys = new Map<string, { metric: string; labels: Labels }>();

function parsedKey(key: string): { metric: string; labels: Labels } {
  let parsed = parsedKeys.get(key);
  if (!parsed) {
    if (parsedKeys.size >= 100_000) parsedKeys.clear();
    const { metric, labels } = parseSeriesKey(key);
    parsedKeys.set(key, (parsed = { metric, labels: Object.freeze(labels) }));
  }
  return parsed;
}

/** Shared by every read on this thread: the key being rebuilt, and its decoder. */
let frontCodedKey = new Uint8Array(256);
const decoder = new TextDecoder();

const NO_PAIRS: readonly string[] = [];

/** A label filter as the `k="v"` pairs series keys hold. */
function labelPairs(labelFilter: Labels): readonly string[] {
  const keys = Object.keys(labelFilter);
  return keys.length === 0 ? NO_PAIRS : keys.map((k) => `${k}=${JSON.stringify(labelFilter[k])}`);
}

const encodedMetrics = new Map<string, Uint8Array>();

function metricBytes(metric: string): Uint8Array {
  let bytes = encodedMetrics.get(metric);
  if (!bytes) {
    if (encodedMetrics.size > 1_000) encodedMetrics.clear();
    encodedMetrics.set(metric, (bytes = new TextEncoder().encode(metric)));
  }
  return bytes;
}

/** True when the key at `at` is `metric` itself or `metric{…}`. */
function startsWithMetric(bytes: Uint8Array, at: number, keyLength: number, metric: Uint8Array): boolean {
  if (keyLength < metric.length || (keyLength > metric.length && bytes[at + metric.length] !== 0x7b)) return false;
  for (let i = 0; i < metric.length; i++) if (bytes[at + i] !== metric[i]) return false;
  return true;
}

/**
 * True when a series key (`metric` or `metric{k="v",…}`, see seriesKey) is of `metric` and
 * has every `k="v"` pair asked for: series are picked before their blocks are decompressed.
 */
function matches(key: string, metric: string, pairs: readonly string[]): boolean {
  if (key.length === metric.length) return key === metric && pairs.length === 0;
  if (!key.startsWith(metric) || key[metric.length] !== "{") return false;
  const labels = key.slice(metric.length);
  return pairs.every((pair) => {
    for (let at = labels.indexOf(pair); at >= 0; at = labels.indexOf(pair, at + 1)) {
      const before = labels[at - 1], after = labels[at + pair.length];
      if ((before === "{" || before === ",") && (after === "," || after === "}")) return true;
    }
    return false;
  });
}

/** One agent's data of a day, as columns: report timestamps (sorted) and aligned series. */
export interface AgentColumns {
  timestamps: number[];
  series: SeriesBlock[];
}

/**
 * Collects one agent's reports of a day, from raw records and an earlier seal, into
 * columns. A later `add` of the same (series, timestamp) wins: sources are added oldest first.
 */
export class AgentBuilder {
  private readonly byTs = new Map<number, Map<string, { metric: string; labels: Labels; value: number }>>();
  points = 0;

  add(tsMs: number, points: Iterable<{ metric: string; labels: Labels; value: number }>): void {
    let row = this.byTs.get(tsMs);
    if (!row) this.byTs.set(tsMs, (row = new Map()));
    for (const p of points) {
      const key = seriesKey(p.metric, p.labels);
      if (!row.has(key)) this.points++;
      row.set(key, p);
    }
  }

  addSealed(timestamps: ArrayLike<number>, series: Iterable<SeriesBlock>): void {
    for (const s of series) {
      for (let i = 0; i < s.values.length; i++) {
        const value = s.values[i];
        if (value !== undefined) this.add(timestamps[i]!, [{ metric: s.metric, labels: s.labels, value }]);
      }
    }
  }

  /** The rows added, oldest first, one value per series. */
  *rows(): Generator<{ tsMs: number; points: { metric: string; labels: Labels; value: number }[] }> {
    for (const tsMs of [...this.byTs.keys()].sort((x, y) => x - y)) yield { tsMs, points: [...this.byTs.get(tsMs)!.values()] };
  }

  columns(): AgentColumns {
    const timestamps = [...this.byTs.keys()].sort((a, b) => a - b);
    const series = new Map<string, { metric: string; labels: Labels; values: (number | undefined)[] }>();
    timestamps.forEach((ts, i) => {
      for (const [key, p] of this.byTs.get(ts)!) {
        let s = series.get(key);
        if (!s) series.set(key, (s = { metric: p.metric, labels: p.labels, values: new Array<number | undefined>(timestamps.length).fill(undefined) }));
        s.values[i] = p.value;
      }
    });
    return { timestamps, series: [...series.values()] };
  }
}

/** One agent's columns as a record without rollups (an hour chunk of fresh data, see chunks.ts). */
export function encodeColumns({ timestamps, series }: AgentColumns): Uint8Array {
  const values = series.map((s) => ({ kind: SERIES, key: seriesKey(s.metric, s.labels), block: encodeBareSeriesBlock(s.values) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return record(values, encodeBareTimestampBlock(timestamps), new TextEncoder(), BARE_RECORD_VERSION);
}

/** Writes one agent's columns into a sealed day being built, and their rollups into the day's rollup environment. */
export async function writeAgent(sealed: RootDatabase, rollups: RootDatabase, agentId: string, { timestamps, series }: AgentColumns): Promise<void> {
  const encoder = new TextEncoder();
  const values: Entry[] = [], aggregates: Entry[] = [];
  for (const s of series) {
    const key = seriesKey(s.metric, s.labels);
    values.push({ kind: SERIES, key, block: encodeSeriesBlock(s) });
    const present = presentValues(s.values);
    // Sums of decimals with e digits are decimals with e digits: rounding away the float
    // noise keeps the sum column in the cheap integer encodings.
    const e = decimalExponent(present);
    for (const [kind, ms] of ROLLUPS) {
      const buckets = new Buckets(ms);
      for (let i = 0; i < s.values.length; i++) if (s.values[i] !== undefined) buckets.add(timestamps[i]!, s.values[i]!);
      const columns = buckets.columns();
      if (e !== null) columns.sum = columns.sum.map((x) => Math.round(x * 10 ** e) / 10 ** e);
      aggregates.push({ kind, key, block: encodeRollupBlock({ metric: s.metric, labels: s.labels, ...columns }) });
    }
  }
  await rollups.put(agentId, record(aggregates, new Uint8Array(0), encoder));
  await sealed.put(agentId, record(values, encodeTimestampBlock(timestamps), encoder));
}

function record(entries: Entry[], tsBlock: Uint8Array, encoder: TextEncoder, version = RECORD_VERSION): Uint8Array {
  const keys = entries.map((e) => encoder.encode(e.key));
  const frontCoded = version === BARE_RECORD_VERSION;
  // Bytes each key shares with the one before (front coding, version 2 only).
  const shared = keys.map((k, i) => {
    if (!frontCoded || i === 0) return 0;
    const prev = keys[i - 1]!;
    let n = 0;
    while (n < 255 && n < k.length && n < prev.length && k[n] === prev[n]) n++;
    return n;
  });
  const header = frontCoded ? 8 : 7;
  const size = 5 + entries.reduce((n, e, i) => n + header + keys[i]!.length - shared[i]! + e.block.length, 0) + 4 + tsBlock.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint8(0, version);
  view.setUint32(1, entries.length);
  let at = 5;
  entries.forEach((e, i) => {
    const key = keys[i]!.subarray(shared[i]!);
    view.setUint8(at, e.kind);
    if (frontCoded) view.setUint8(++at, shared[i]!);
    view.setUint16(at + 1, key.length);
    out.set(key, at + 3);
    view.setUint32(at + 3 + key.length, e.block.length);
    at += 7 + key.length;
  });
  view.setUint32(at, tsBlock.length);
  out.set(tsBlock, at + 4);
  at += 4 + tsBlock.length;
  for (const e of entries) {
    out.set(e.block, at);
    at += e.block.length;
  }
  return out;
}
