import { brotliCompressSync, brotliDecompressSync, constants } from "node:zlib";
import type { Labels } from "../../../common/metrics.ts";
import { ByteReader, ByteWriter } from "./bytes.ts";
import { readTimestamps, readValues, writeTimestamps, writeValues } from "./columns.ts";

/*
 * A sealed chunk: every series of one agent over a time range, columnar. The report
 * timestamps are stored once (every series of a report shares them); each series is its
 * name and labels, which reports it appears in (all, or a bitmap), and its value column.
 * The whole is brotli-compressed. Format version 1:
 *
 *   version · timestamps column · series count · per series: metric · labels JSON ·
 *   presence (0 = every report, 1 + bitmap) · value column
 */

const VERSION = 1;

export interface ChunkSeries {
  metric: string;
  labels: Labels;
  /** One per report timestamp; undefined where the series is absent from that report. */
  values: (number | undefined)[];
}

export interface Chunk {
  /** Report timestamps in the order stored (sorted by the caller; repeats allowed). */
  timestamps: number[];
  series: ChunkSeries[];
}

export function encodeChunk(chunk: Chunk): Uint8Array {
  const w = new ByteWriter();
  w.byte(VERSION);
  writeTimestamps(w, chunk.timestamps);
  w.uvarint(chunk.series.length);
  for (const s of chunk.series) {
    if (s.values.length !== chunk.timestamps.length) throw new RangeError(`series ${s.metric}: ${s.values.length} values for ${chunk.timestamps.length} timestamps`);
    w.string(s.metric);
    w.string(JSON.stringify(s.labels));
    const present: number[] = [];
    for (const v of s.values) if (v !== undefined) present.push(v);
    if (present.length === s.values.length) w.byte(0);
    else {
      w.byte(1);
      const bitmap = new Uint8Array(Math.ceil(s.values.length / 8));
      s.values.forEach((v, i) => { if (v !== undefined) bitmap[i >> 3]! |= 1 << (i & 7); });
      w.bytes(bitmap);
    }
    writeValues(w, present);
  }
  return brotliCompressSync(w.finish(), { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_GENERIC } });
}

export function decodeChunk(bytes: Uint8Array): Chunk {
  const r = new ByteReader(brotliDecompressSync(bytes));
  const version = r.byte();
  if (version !== VERSION) throw new RangeError(`chunk format ${version} is not known to this version of tsmon`);
  const timestamps = readTimestamps(r);
  const count = r.uvarint();
  const series: ChunkSeries[] = [];
  for (let s = 0; s < count; s++) {
    const metric = r.string();
    const labels = JSON.parse(r.string()) as Labels;
    const all = r.byte() === 0;
    const bitmap = all ? null : r.bytes(Math.ceil(timestamps.length / 8));
    const presentCount = bitmap ? bitmap.reduce((n, b) => n + popcount(b), 0) : timestamps.length;
    const present = readValues(r, presentCount);
    let next = 0;
    const values = timestamps.map((_, i) => (!bitmap || bitmap[i >> 3]! & (1 << (i & 7)) ? present[next++] : undefined));
    series.push({ metric, labels, values });
  }
  return { timestamps, series };
}

function popcount(b: number): number {
  let n = 0;
  for (; b; b &= b - 1) n++;
  return n;
}
