import { z } from "zod";
import type { RuleOf } from "../rule-fields.ts";
import type { Sample, Target } from "../types.ts";
import type { SeriesCondition } from "./condition.ts";
import { fmt } from "./threshold.ts";

const fields = {
  rate_threshold: z.number().positive(),
  window_secs: z.number().int().positive(),
};
export type RateOfChangeRule = RuleOf<"rate_of_change", typeof fields>;

/**
 * |last − first| / |first| × 100 over the samples within `window_secs` of the newest;
 * fires when it reaches `rate_threshold`. No alert when the first value is 0 or the window
 * holds fewer than two samples. `window` is oldest first and already trimmed.
 */
export function evalRateOfChange(rule: RateOfChangeRule, window: readonly Sample[]): Target | null {
  const last = window.at(-1);
  if (!last) return null;
  const first = window[0]!;
  const base = { severity: rule.severity, ts: last.ts, value: last.value, threshold: rule.rate_threshold };
  if (window.length < 2 || first.value === 0) {
    return { ...base, state: "inactive", message: `${rule.metric}: not enough data for a rate of change` };
  }
  const rate = (Math.abs(last.value - first.value) / Math.abs(first.value)) * 100;
  const span = Math.round((last.ts - first.ts) / 1000);
  const message = `${rule.metric} changed ${fmt(rate)}% in ${span}s (${fmt(first.value)} → ${fmt(last.value)}; limit ${fmt(rule.rate_threshold)}%)`;
  return { ...base, state: rate >= rule.rate_threshold ? "firing" : "inactive", message };
}

export const rateOfChange = {
  watches: "series",
  fields,
  windowMs: (rule) => rule.window_secs * 1000,
  historyMs: (rule) => rule.window_secs * 1000,
  initial: () => undefined,
  step: (rule, state, window) => ({ state, target: evalRateOfChange(rule, window) }),
} as const satisfies SeriesCondition<RateOfChangeRule, undefined>;
