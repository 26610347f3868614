import type { Labels, MetricPoint } from "../../common/metrics.ts";

/**
 * One source of metrics. `collect` is called once per collection interval with the
 * collection timestamp, which every point it returns must carry.
 */
export interface Collector {
  readonly name: string;
  collect(nowMs: number): Promise<MetricPoint[]> | MetricPoint[];
}

/** Builds a point; values are rounded so the wire and the store carry no float noise. */
export function point(timestampMs: number, metric: string, value: number, labels: Labels = NO_LABELS): MetricPoint {
  return { timestampMs, metric, value, labels };
}

const NO_LABELS: Labels = Object.freeze({});

/** Two decimals: enough for percentages, load averages and per-second rates. */
export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A percentage of `part` in `whole`, clamped to 0..100, 0 when `whole` is 0. */
export function percent(part: number, whole: number): number {
  if (!(whole > 0)) return 0;
  return round2(Math.min(100, Math.max(0, (part / whole) * 100)));
}
