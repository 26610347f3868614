import { z } from "zod";
import type { RuleOf } from "../rule-fields.ts";
import type { Sample, Target } from "../types.ts";
import type { SeriesCondition } from "./condition.ts";
import { fmt } from "./threshold.ts";

const fields = {
  rate_threshold: z.number().positive(),
  window_secs: z.number().int().positive(),
  /** The absolute change (in the metric's unit) below which nothing fires, however large relatively. */
  min_delta: z.number().min(0).default(0),
};
export type RateOfChangeRule = RuleOf<"rate_of_change", typeof fields>;

/**
 * A metric that is already a percentage changes by percentage points: memory going from
 * 4.92 % to 3.74 % used is a change of 1.18 points, which is what "a 20 % spike" of memory
 * means to a user, not the −24 % that relative arithmetic makes of it.
 */
const inPoints = (metric: string): boolean => metric.endsWith("_percent");

/**
 * The change from the first to the last sample within `window_secs` of the newest: in
 * percentage points for `*_percent` metrics, else relative, |last − first| / |first| × 100.
 * Fires when it reaches `rate_threshold` and |last − first| is at least `min_delta`. No alert
 * with fewer than two samples, nor (relative only) when the first value is 0. `window` is
 * oldest first and already trimmed.
 */
export function evalRateOfChange(rule: RateOfChangeRule, window: readonly Sample[]): Target | null {
  const last = window.at(-1);
  if (!last) return null;
  const first = window[0]!;
  const points = inPoints(rule.metric);
  const base = { severity: rule.severity, ts: last.ts, value: last.value, threshold: rule.rate_threshold };
  if (window.length < 2 || (!points && first.value === 0)) {
    return { ...base, state: "inactive", message: `${rule.metric}: not enough data for a rate of change` };
  }
  const delta = Math.abs(last.value - first.value);
  const change = points ? delta : (delta / Math.abs(first.value)) * 100;
  const unit = points ? " points" : "%";
  const span = Math.round((last.ts - first.ts) / 1000);
  const floor = rule.min_delta ? `, at least ${fmt(rule.min_delta)} apart` : "";
  const message = `${rule.metric} changed ${fmt(change)}${unit} in ${span}s (${fmt(first.value)} → ${fmt(last.value)}; limit ${fmt(rule.rate_threshold)}${unit}${floor})`;
  const firing = change >= rule.rate_threshold && delta >= rule.min_delta;
  return { ...base, state: firing ? "firing" : "inactive", message };
}

export const rateOfChange = {
  watches: "series",
  fields,
  windowMs: (rule) => rule.window_secs * 1000,
  historyMs: (rule) => rule.window_secs * 1000,
  initial: () => undefined,
  step: (rule, state, window) => ({ state, target: evalRateOfChange(rule, window) }),
} as const satisfies SeriesCondition<RateOfChangeRule, undefined>;
