import type { Database, RootDatabase } from "lmdb";
import type { Labels } from "../../common/metrics.ts";
import type { SeriesRef } from "../../common/series-text.ts";

/*
 * The read of a few series from raw records without decoding them. A raw record holds every
 * series of a report (95 for an agent), but a chart or the fleet overview wants one to four
 * of them: decoding the record (msgpack, a copy of its values) costs ≈ 4 µs, most of a raw
 * read, while reading the wanted float64s straight from the stored bytes costs a fraction
 * of that. Records laid out otherwise (legacy ones) are decoded as before by the caller.
 */

type RecordKey = [agentId: string, tsMs: number, hash: number];

/** Where a record's values sit in its stored bytes: msgpack [shapeId (fixstr), values (bin8/16/32)]. */
export interface RawParts { shapeStart: number; shapeEnd: number; valuesStart: number; count: number }

/** The parts of a record as raw-shapes.ts writes it, or undefined for any other layout. */
export function rawParts(bytes: Uint8Array): RawParts | undefined {
  if (bytes[0] !== 0x92) return undefined;
  const head = bytes[1]!;
  let shapeStart: number, shapeEnd: number;
  if (head >= 0xa0 && head <= 0xbf) { shapeStart = 2; shapeEnd = 2 + (head & 0x1f); }
  else if (head === 0xd9) { shapeStart = 3; shapeEnd = 3 + bytes[2]!; }
  else return undefined;
  const tag = bytes[shapeEnd];
  let length: number, valuesStart: number;
  if (tag === 0xc4) { length = bytes[shapeEnd + 1]!; valuesStart = shapeEnd + 2; }
  else if (tag === 0xc5) { length = (bytes[shapeEnd + 1]! << 8) | bytes[shapeEnd + 2]!; valuesStart = shapeEnd + 3; }
  else if (tag === 0xc6) { length = ((bytes[shapeEnd + 1]! << 24) >>> 0) + (bytes[shapeEnd + 2]! << 16) + (bytes[shapeEnd + 3]! << 8) + bytes[shapeEnd + 4]!; valuesStart = shapeEnd + 5; }
  else return undefined;
  if (length % 8 !== 0 || valuesStart + length !== bytes.length) return undefined;
  return { shapeStart, shapeEnd, valuesStart, count: length / 8 };
}

/** One float64 assembled from 8 stored bytes (in the platform's byte order, as written): no allocation per value. */
const scratch = new Float64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);
function float64At(bytes: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) scratchBytes[i] = bytes[at + i]!;
  return scratch[0]!;
}

const binaryViews = new WeakMap<RootDatabase, Database<Uint8Array, RecordKey>>();

/**
 * Hands out the bytes lmdb-js read a value into, not a copy (its `binary` encoding copies
 * every value): a view valid only until the next read, so readRawPicks uses each before
 * moving on. Never used to write.
 */
const inPlace = {
  encode(): never {
    throw new Error("the in-place view of a raw partition is read-only");
  },
  decode(bytes: Uint8Array, size: number): Uint8Array {
    return bytes.subarray(0, size);
  },
};

/** The partition's records as their stored bytes (the same environment and read snapshot). */
function binaryView(db: RootDatabase): Database<Uint8Array, RecordKey> {
  let view = binaryViews.get(db);
  // The root database (name null), with a custom encoder: lmdb-js takes both, its types neither.
  const options = { name: null, encoder: inPlace } as unknown as { name: string };
  if (!view) binaryViews.set(db, (view = db.openDB<Uint8Array, RecordKey>(options)));
  return view;
}

/** What the caller wants of a record's shape: [index in the record, sink of that series]. */
export type Picks<T> = readonly (readonly [index: number, sink: T])[];

/**
 * `picksFor` for readRawPicks: each shape's series that `sinkFor` wants (a sink, or
 * undefined to pass the series over), found once per shape.
 */
export function picksByShape<T>(sinkFor: (metric: string, labels: Labels) => T | undefined): (refs: readonly SeriesRef[]) => Picks<T> {
  const found = new Map<readonly SeriesRef[], Picks<T>>();
  return (refs) => {
    let picks = found.get(refs);
    if (!picks) {
      const list: [number, T][] = [];
      refs.forEach(([metric, labels], i) => {
        const sink = sinkFor(metric, labels);
        if (sink !== undefined) list.push([i, sink]);
      });
      found.set(refs, (picks = list));
    }
    return picks;
  };
}

/**
 * Visits the records of `agentId` with fromMs ≤ ts ≤ toMs in time order, giving `take` the
 * values `picksFor` asks of each record's shape. A record of another layout goes to
 * `undecoded` (its key), for the caller's full decode.
 */
export function readRawPicks<T>(
  db: RootDatabase, agentId: string, fromMs: number, toMs: number,
  shapeRefs: (shapeId: string) => readonly SeriesRef[],
  picksFor: (refs: readonly SeriesRef[]) => Picks<T>,
  take: (sink: T, tsMs: number, value: number) => void,
  undecoded: (key: RecordKey) => void,
): void {
  let lastShape: Uint8Array | undefined, lastPicks: Picks<T> = [];
  for (const { key, value } of binaryView(db).getRange({ start: [agentId, fromMs], end: [agentId, toMs, Infinity] })) {
    let bytes = value;
    const parts = rawParts(bytes);
    if (!parts) { undecoded(key); continue; }
    // An agent repeats its shape report after report: compare its id's bytes, not a new string.
    if (!lastShape || !sameBytes(lastShape, bytes, parts.shapeStart, parts.shapeEnd)) {
      // Copies: `bytes` may be lmdb-js's shared buffer, which the next read (the shape's text,
      // read below on first sight) overwrites; and Buffer's slice() does not copy.
      bytes = Uint8Array.from(bytes);
      lastShape = bytes.slice(parts.shapeStart, parts.shapeEnd);
      lastPicks = picksFor(shapeRefs(String.fromCharCode(...lastShape)));
    }
    if (lastPicks.length === 0) continue;
    const tsMs = key[1];
    for (const [index, sink] of lastPicks) take(sink, tsMs, float64At(bytes, parts.valuesStart + index * 8));
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[start + i]) return false;
  return true;
}
