import { percentile, type Bucket } from "../query/aggregate.ts";

/*
 * The figures of a report, pure functions over the one-minute buckets storage answers
 * (whole sealed days come from rollups, so a month of a host is cheap to read).
 */

/** Reports read one-minute buckets: availability counts minutes, p95 is over minute means. */
export const REPORT_STEP_MS = 60_000;

/** Minutes of [fromMs, toMs) with at least one point, as a percent of the minutes in it; null when the span is empty. */
export function availabilityPercent(bucketStarts: readonly number[], fromMs: number, toMs: number): { percent: number | null; seen: number; expected: number } {
  const first = Math.floor(fromMs / REPORT_STEP_MS) * REPORT_STEP_MS;
  const expected = Math.max(0, Math.ceil((toMs - first) / REPORT_STEP_MS));
  const seen = bucketStarts.filter((t) => t >= first && t < toMs).length;
  return { percent: expected === 0 ? null : round2((100 * Math.min(seen, expected)) / expected), seen, expected };
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
