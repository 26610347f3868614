/*
 * Series from /v1/metrics?step&format=columns (each with its own non-empty bucket starts)
 * put on one shared time axis, the columnar shape uPlot draws: [timestamps, ...values].
 */
export interface BucketColumns { labels: Record<string, string>; timestamps: number[]; min: number[]; max: number[]; avg: number[]; count: number[] }
export interface NamedColumns { name: string; columns: BucketColumns }
export interface Aligned {
  /** seconds, as uPlot wants them */
  x: number[];
  avg: (number | null)[][];
  min: (number | null)[][];
  max: (number | null)[][];
  /** true when some bucket holds more than one point (a band is worth drawing) */
  downsampled: boolean;
}

export function alignColumns(series: NamedColumns[]): Aligned {
  const all = new Set<number>();
  for (const s of series) for (const t of s.columns.timestamps) all.add(t);
  const times = [...all].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const blank = () => new Array<number | null>(times.length).fill(null);
  const out: Aligned = { x: times.map((t) => t / 1000), avg: [], min: [], max: [], downsampled: false };
  for (const { columns: c } of series) {
    const avg = blank(), min = blank(), max = blank();
    for (let i = 0; i < c.timestamps.length; i++) {
      const at = index.get(c.timestamps[i]!)!;
      avg[at] = c.avg[i]!;
      min[at] = c.min[i]!;
      max[at] = c.max[i]!;
      if (c.count[i]! > 1 && c.min[i] !== c.max[i]) out.downsampled = true;
    }
    out.avg.push(avg);
    out.min.push(min);
    out.max.push(max);
  }
  return out;
}
