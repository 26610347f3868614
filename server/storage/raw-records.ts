import type { RootDatabase } from "lmdb";
import type { Labels } from "../../common/metrics.ts";
import type { SampleBlock, SeriesRef } from "../../common/series-text.ts";
import { contentHash } from "./content-hash.ts";
import type { InstantSplitter } from "./instant-split.ts";
import { shapesOf, type ShapeBook } from "./raw-shapes.ts";
import { isAfterRecords } from "./root-keys.ts";

/*
 * Raw layout: one record per (agent, timestamp) in a raw generation of that timestamp's UTC
 * day, key [agentId, tsMs, contentHash], value [shapeId, float64 values as bytes (the
 * platform's byte order)]; the shape, the record's series as one text, is stored once per
 * environment (raw-shapes.ts). The content hash makes a retried report overwrite itself
 * instead of duplicating while its record is raw; once compacted, a retry is stored again
 * and every reader keeps one value per (series, instant).
 */

export type RawValue = [shapeId: string, values: Uint8Array];
/** Records written before shapes: [metrics, labels, values]; still read, never written. */
export type LegacyValue = [metrics: string[], labels: (Labels | null)[], values: number[]];
export type RecordKey = [agentId: string, tsMs: number, hash: number];

/** One raw record as read back: its series and their values at one instant. */
export interface RawRecord { tsMs: number; refs: readonly SeriesRef[]; values: Float64Array }

/** One stored sample as read back. */
export interface StoredPoint { metric: string; labels: Labels; value: number }

/** A record to write, with its shape's text. */
export interface RawWrite { key: RecordKey; value: RawValue; text: string }

const EMPTY_LABELS: Labels = Object.freeze({});

/** A report's records: one per instant (an agent's report usually has one). */
export function* rawWrites(agentId: string, block: SampleBlock, shapeId: (text: string) => string, splitter: InstantSplitter): Generator<RawWrite> {
  const { timestamps, values } = block;
  const rawWrite = (tsMs: number, text: string, group: Float64Array): RawWrite => {
    const id = shapeId(text);
    // The platform's byte order, little-endian wherever Node runs in practice.
    const bytes = new Uint8Array(group.buffer, group.byteOffset, group.byteLength);
    return { key: [agentId, tsMs, contentHash(id, group)], value: [id, bytes], text };
  };
  if (timestamps.every((ts) => ts === timestamps[0])) {
    if (timestamps.length) yield rawWrite(timestamps[0]!, block.series, values);
    return;
  }
  for (const part of splitter.split(agentId, block)) yield rawWrite(part.tsMs, part.text, part.values);
}

/** The agent's records with fromMs ≤ ts ≤ toMs in one raw environment, oldest first. */
export function* rawRecords(db: RootDatabase, agentId: string, fromMs: number, toMs: number): Generator<RawRecord> {
  const shapes = shapesOf(db);
  for (const { key, value } of db.getRange({ start: [agentId, fromMs], end: [agentId, toMs, Infinity] })) {
    yield toRawRecord(shapes, (key as RecordKey)[1], value as RawValue | LegacyValue);
  }
}

export function toRawRecord(shapes: ShapeBook, tsMs: number, value: RawValue | LegacyValue): RawRecord {
  if (value.length === 3) {
    const [m, l, v] = value;
    return { tsMs, refs: m.map((metric, i) => [metric, l[i] ?? EMPTY_LABELS]), values: Float64Array.from(v) };
  }
  const [shapeId, bytes] = value;
  // Copied: the decoded bytes may sit unaligned in a buffer lmdb-js reuses.
  const values = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(values.buffer).set(bytes);
  return { tsMs, refs: shapes.refs(shapeId), values };
}

export function toPoints({ refs, values }: RawRecord): StoredPoint[] {
  const points: StoredPoint[] = new Array(refs.length);
  for (let i = 0; i < refs.length; i++) points[i] = { metric: refs[i]![0], labels: refs[i]![1], value: values[i]! };
  return points;
}

/** The agents with records in a raw environment, skipping from one agent's keys to the next. */
export function* distinctAgents(db: RootDatabase): Generator<string> {
  let start: unknown = undefined;
  for (;;) {
    const [first] = db.getKeys({ start: start as never, limit: 1 }) as Iterable<RecordKey | string>;
    if (first === undefined) return;
    // After the records come the shapes and report keys (root-keys.ts); string keys among
    // them (the closed mark, named databases of older files) are stepped over, not the
    // records of an agent that happens to have the same id.
    if (isAfterRecords(first)) return;
    if (typeof first === "string") {
      start = [first, -Infinity];
      continue;
    }
    yield first[0];
    start = [first[0], Infinity];
  }
}

/** True when a raw environment holds at least one record. */
export function holdsRecords(db: RootDatabase): boolean {
  return !distinctAgents(db).next().done;
}
