import type { Labels } from "../../common/metrics.ts";
import type { BucketColumns } from "./bucket-grid.ts";

const ALL_FIELDS: readonly (keyof BucketColumns)[] = ["min", "max", "avg", "count"];

/** `length` buckets of `stepMs` from `startMs` (a multiple of the step): the grid of bucketGrid. */
export interface Grid { startMs: number; stepMs: number; length: number }

/**
 * One series' buckets on a shared grid, built from its points in time order straight into
 * flat columns — no per-series point columns, bucket map or bucket tuples in between (a
 * fleet read of a thousand agents made and dropped those by the million). Points go in as
 * runs of a bucket, each run's sum built point by point and then added to its bucket, as
 * MetricStore.bucketsOf adds one day's points: the buckets are equal to the last bit.
 */
export class GridSeries {
  /** Kept only when asked for (a sparkline needs the mean alone). */
  private readonly min: number[] | undefined;
  private readonly max: number[] | undefined;
  private readonly sum: number[];
  private readonly count: number[];
  private runStart = NaN;
  private runMin = 0;
  private runMax = 0;
  private runSum = 0;
  private runCount = 0;
  private last = -Infinity;

  constructor(readonly metric: string, readonly labels: Labels, private readonly grid: Grid, private readonly fields: readonly (keyof BucketColumns)[] = ALL_FIELDS) {
    // Plain arrays, not typed ones: a fleet read makes a series per agent and metric, and a
    // typed array of more than a few values is a native allocation V8 must track and free;
    // these live and die in the young generation.
    const n = grid.length;
    if (fields.includes("min")) this.min = new Array<number>(n).fill(0);
    if (fields.includes("max")) this.max = new Array<number>(n).fill(0);
    this.sum = new Array<number>(n).fill(0);
    this.count = new Array<number>(n).fill(0);
  }

  /** Adds the next point of the day; false (and nothing added) when it is not after the one before. */
  push(tsMs: number, value: number): boolean {
    if (!(tsMs > this.last)) return false;
    this.last = tsMs;
    const start = Math.floor(tsMs / this.grid.stepMs) * this.grid.stepMs;
    if (start === this.runStart) {
      if (value < this.runMin) this.runMin = value;
      if (value > this.runMax) this.runMax = value;
      this.runSum += value;
      this.runCount++;
      return true;
    }
    this.flush();
    this.runStart = start;
    this.runMin = this.runMax = this.runSum = value;
    this.runCount = 1;
    return true;
  }

  /** Ends a day's points: its last run goes into its bucket (bucketsOf runs each day apart). */
  endDay(): void {
    this.flush();
    this.last = -Infinity;
  }

  /** True while no point has landed on the grid. */
  get empty(): boolean {
    return this.count.every((n) => n === 0);
  }

  /** The columns of `fields`, empty buckets null (count 0), as toGridColumns gives them. */
  columns(): Partial<BucketColumns> {
    const out: Partial<BucketColumns> = {};
    const n = this.grid.length, count = this.count, sum = this.sum;
    const column = (of: number[] | undefined, mean = false) => {
      const c = new Array<number | null>(n);
      for (let i = 0; i < n; i++) c[i] = count[i] === 0 ? null : mean ? sum[i]! / count[i]! : of![i]!;
      return c;
    };
    for (const field of this.fields) {
      if (field === "count") out.count = Array.from(count);
      else if (field === "avg") out.avg = column(sum, true);
      else out[field] = column(this[field]);
    }
    return out;
  }

  private flush(): void {
    if (this.runCount === 0) return;
    const i = Math.round((this.runStart - this.grid.startMs) / this.grid.stepMs);
    if (i >= 0 && i < this.grid.length) {
      const { min, max } = this;
      if (this.count[i] === 0) {
        if (min) min[i] = this.runMin;
        if (max) max[i] = this.runMax;
        this.sum[i] = this.runSum;
      } else {
        if (min && this.runMin < min[i]!) min[i] = this.runMin;
        if (max && this.runMax > max[i]!) max[i] = this.runMax;
        this.sum[i] = this.sum[i]! + this.runSum;
      }
      this.count[i] = this.count[i]! + this.runCount;
    }
    this.runCount = 0;
    this.runStart = NaN;
  }
}
