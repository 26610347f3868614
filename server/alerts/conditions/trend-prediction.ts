import { z } from "zod";
import type { RuleOf } from "../rule-fields.ts";
import type { Sample, Target } from "../types.ts";
import type { SeriesCondition } from "./condition.ts";
import { fmt } from "./threshold.ts";

const fields = {
  predict_threshold: z.number(),
  horizon_secs: z.number().int().positive(),
  min_data_points: z.number().int().min(2).default(10),
  window_secs: z.number().int().positive().default(3600),
};
export type TrendPredictionRule = RuleOf<"trend_prediction", typeof fields>;

/** Least-squares line through the samples: value ≈ slope · ts + intercept (ts in ms). */
export function fitLine(samples: readonly Sample[]): { slope: number; intercept: number } | null {
  const n = samples.length;
  if (n < 2) return null;
  // Centre the times so large epoch values do not cost precision.
  const t0 = samples[0]!.ts;
  let st = 0, sv = 0, stt = 0, stv = 0;
  for (const { ts, value } of samples) {
    const t = ts - t0;
    st += t; sv += value; stt += t * t; stv += t * value;
  }
  const denom = n * stt - st * st;
  if (denom === 0) return null;
  const slope = (n * stv - st * sv) / denom;
  return { slope, intercept: (sv - slope * st) / n - slope * t0 };
}

/**
 * Fires when the line fitted over the window (at least `min_data_points` samples) reaches
 * `predict_threshold` within `horizon_secs` after the newest sample, while the newest value
 * has not reached it yet. The target carries the predicted crossing time.
 */
export function evalTrend(rule: TrendPredictionRule, window: readonly Sample[]): Target | null {
  const last = window.at(-1);
  if (!last) return null;
  const base = { severity: rule.severity, ts: last.ts, value: last.value, threshold: rule.predict_threshold };
  const quiet = (message: string): Target => ({ ...base, state: "inactive", message });
  if (window.length < rule.min_data_points) return quiet(`${rule.metric}: ${window.length} of ${rule.min_data_points} points for a prediction`);
  const line = fitLine(window);
  if (!line || line.slope === 0) return quiet(`${rule.metric}: no trend`);
  const rising = line.slope > 0;
  const crossed = rising ? last.value >= rule.predict_threshold : last.value <= rule.predict_threshold;
  if (crossed) return quiet(`${rule.metric} is already past ${fmt(rule.predict_threshold)}`);
  const crossingTs = (rule.predict_threshold - line.intercept) / line.slope;
  const ahead = crossingTs - last.ts;
  if (ahead <= 0 || ahead > rule.horizon_secs * 1000) {
    return quiet(`${rule.metric} not predicted to reach ${fmt(rule.predict_threshold)} within ${rule.horizon_secs}s`);
  }
  const at = Math.round(crossingTs);
  return {
    ...base, state: "firing", predictedAt: at,
    message: `${rule.metric} is ${fmt(last.value)} and trending to reach ${fmt(rule.predict_threshold)} at ${new Date(at).toISOString()} (in ${Math.round(ahead / 1000)}s)`,
  };
}

export const trendPrediction = {
  watches: "series",
  fields,
  windowMs: (rule) => rule.window_secs * 1000,
  historyMs: (rule) => rule.window_secs * 1000,
  initial: () => undefined,
  step: (rule, state, window) => ({ state, target: evalTrend(rule, window) }),
} as const satisfies SeriesCondition<TrendPredictionRule, undefined>;
