/*
 * Downsampling and summary statistics of one series, pure functions over [ts, value]
 * points. Buckets are aligned to multiples of the step since the epoch, so the same bucket
 * has the same bounds in every query (and in a rollup kept at that resolution).
 */

/** [bucket start ms, min, max, avg, count]: min and max keep a spike that the average would hide. */
export type Bucket = [startMs: number, min: number, max: number, avg: number, count: number];

export interface SeriesStats {
  count: number;
  min: number;
  max: number;
  avg: number;
  p50: number;
  p95: number;
  p99: number;
}

/** Accumulates points, in any order, into buckets of `stepMs`; empty buckets are left out. */
export class Buckets {
  private readonly buckets = new Map<number, { min: number; max: number; sum: number; count: number }>();
  constructor(private readonly stepMs: number) {}

  add(ts: number, value: number): void {
    this.merge(ts, value, value, value, 1);
  }

  /** Folds in a whole bucket of a finer resolution (its start must lie in one bucket of this step). */
  merge(start: number, min: number, max: number, sum: number, count: number): void {
    const at = Math.floor(start / this.stepMs) * this.stepMs;
    const b = this.buckets.get(at);
    if (!b) this.buckets.set(at, { min, max, sum, count });
    else {
      if (min < b.min) b.min = min;
      if (max > b.max) b.max = max;
      b.sum += sum;
      b.count += count;
    }
  }

  result(): Bucket[] {
    return [...this.buckets].sort((a, b) => a[0] - b[0]).map(([start, b]) => [start, b.min, b.max, b.sum / b.count, b.count]);
  }

  /** The buckets as columns, with sums (what a rollup keeps, so coarser buckets can be built from it). */
  columns(): { starts: number[]; min: number[]; max: number[]; sum: number[]; count: number[] } {
    const sorted = [...this.buckets].sort((a, b) => a[0] - b[0]);
    return {
      starts: sorted.map(([s]) => s), min: sorted.map(([, b]) => b.min), max: sorted.map(([, b]) => b.max),
      sum: sorted.map(([, b]) => b.sum), count: sorted.map(([, b]) => b.count),
    };
  }
}

export function downsample(points: readonly (readonly [number, number])[], stepMs: number): Bucket[] {
  const buckets = new Buckets(stepMs);
  for (const [ts, value] of points) buckets.add(ts, value);
  return buckets.result();
}

/** Nearest-rank percentile of ascending `sorted` (the smallest value with at least p % at or below it). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Count, extremes, mean and nearest-rank percentiles; null for an empty series. */
export function seriesStats(values: ArrayLike<number>): SeriesStats | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const asArray = Array.from(sorted);
  return {
    count: sorted.length, min: sorted[0]!, max: sorted[sorted.length - 1]!, avg: sum / sorted.length,
    p50: percentile(asArray, 50), p95: percentile(asArray, 95), p99: percentile(asArray, 99),
  };
}
