import type { Bucket } from "./aggregate.ts";

/*
 * Buckets as columns on one grid of starts shared by every series of a reply, so the
 * timestamps are sent once and each series is a few flat arrays (what uPlot draws from, and
 * far quicker to serialise than a tuple per bucket). An empty bucket is null, count 0.
 */

/** Bucket starts covering [fromMs, toMs]: multiples of `stepMs`, as `Buckets` aligns them. */
export function bucketGrid(fromMs: number, toMs: number, stepMs: number): number[] {
  const first = Math.floor(fromMs / stepMs) * stepMs, last = Math.floor(toMs / stepMs) * stepMs;
  const starts: number[] = [];
  for (let t = first; t <= last; t += stepMs) starts.push(t);
  return starts;
}

/** How many buckets `bucketGrid` gives, without building it (for bounds checked before any read). */
export function bucketCount(fromMs: number, toMs: number, stepMs: number): number {
  return Math.floor(toMs / stepMs) - Math.floor(fromMs / stepMs) + 1;
}

export interface BucketColumns {
  min: (number | null)[];
  max: (number | null)[];
  avg: (number | null)[];
  count: number[];
}

/** One series' buckets (sorted, on the grid) spread over the grid's columns. */
export function toGridColumns(buckets: readonly Bucket[], gridStartMs: number, stepMs: number, length: number, fields: readonly (keyof BucketColumns)[] = ["min", "max", "avg", "count"]): Partial<BucketColumns> {
  const out: Partial<BucketColumns> = {};
  for (const field of fields) out[field] = new Array<number | null>(length).fill(field === "count" ? 0 : null) as number[];
  const { min, max, avg, count } = out;
  for (const [start, lo, hi, mean, n] of buckets) {
    const i = Math.round((start - gridStartMs) / stepMs);
    if (i < 0 || i >= length) continue;
    if (min) min[i] = lo;
    if (max) max[i] = hi;
    if (avg) avg[i] = mean;
    if (count) count[i] = n;
  }
  return out;
}

/** A series' buckets as columns of its own (no shared grid): empty buckets stay left out. */
export function bucketsAsColumns(buckets: readonly Bucket[]): { timestamps: number[]; min: number[]; max: number[]; avg: number[]; count: number[] } {
  return {
    timestamps: buckets.map((b) => b[0]), min: buckets.map((b) => b[1]), max: buckets.map((b) => b[2]),
    avg: buckets.map((b) => b[3]), count: buckets.map((b) => b[4]),
  };
}
