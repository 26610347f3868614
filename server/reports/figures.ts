import { percentile, type Bucket } from "../query/aggregate.ts";

/*
 * The figures of a report, pure functions over the one-minute buckets storage answers
 * (whole sealed days come from rollups, so a month of a host is cheap to read).
 */

/** Reports read one-minute buckets: availability counts minutes, p95 is over minute means. */
export const REPORT_STEP_MS = 60_000;

/** A gap this long is an outage, never the agent's interval, however often it happened. */
const MAX_INTERVAL_MS = 15 * 60_000;

export interface Availability {
  /** Percent of [fromMs, toMs) covered by reports; null when the span is empty. */
  percent: number | null;
  coveredMs: number;
  /** How often the agent reports, as its minutes with data say (at least a minute). */
  intervalMs: number;
}

/**
 * How much of [fromMs, toMs) the agent's reports cover: each minute with data covers itself
 * and the agent's usual interval after it (the median gap between such minutes, so an agent
 * reporting every 5 minutes is not 20 % available; capped at 15 minutes, as a longer usual
 * gap is an outage). A minute still in progress is not missing yet: toMs is usually now.
 */
export function availability(bucketStarts: readonly number[], fromMs: number, toMs: number): Availability {
  const starts = [...bucketStarts].sort((a, b) => a - b);
  const gaps = starts.slice(1).map((t, i) => t - starts[i]!).sort((a, b) => a - b);
  const median = gaps.length ? gaps[Math.floor((gaps.length - 1) / 2)]! : REPORT_STEP_MS;
  const intervalMs = Math.min(MAX_INTERVAL_MS, Math.max(REPORT_STEP_MS, median));
  const covered = coveredMs(starts.map((t) => [t, t + intervalMs]), fromMs, toMs);
  const span = toMs - fromMs;
  return { percent: span <= 0 ? null : round2(Math.min(100, (100 * covered) / span)), coveredMs: covered, intervalMs };
}

/** p95 of the minute means and the true maximum (bucket maxima keep every spike); null without data. */
export function peakFigures(buckets: readonly Bucket[]): { p95: number; max: number } | null {
  if (buckets.length === 0) return null;
  const means = buckets.map((b) => b[3]).sort((a, b) => a - b);
  let max = -Infinity;
  for (const b of buckets) if (b[2] > max) max = b[2];
  return { p95: round2(percentile(means, 95)), max: round2(max) };
}

/** Of a 0/1 series (`check.up`): the percent of probes that found it up, and how many probes. */
export function upPercent(buckets: readonly Bucket[]): { percent: number; probes: number } | null {
  let ups = 0, probes = 0;
  for (const [, , , avg, count] of buckets) {
    ups += avg * count;
    probes += count;
  }
  return probes === 0 ? null : { percent: round2((100 * ups) / probes), probes };
}

/** Milliseconds of [fromMs, toMs) covered by at least one of `spans` (overlapping alerts count once). */
export function coveredMs(spans: readonly (readonly [start: number, end: number])[], fromMs: number, toMs: number): number {
  const clipped = spans
    .map(([s, e]) => [Math.max(s, fromMs), Math.min(e, toMs)] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  let total = 0, runStart = -Infinity, runEnd = -Infinity;
  for (const [s, e] of clipped) {
    if (s > runEnd) {
      if (runEnd > runStart) total += runEnd - runStart;
      runStart = s;
      runEnd = e;
    } else if (e > runEnd) runEnd = e;
  }
  if (runEnd > runStart) total += runEnd - runStart;
  return total;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
