import type { AlertRule, Sample, Target } from "../types.ts";
import { fmt } from "./threshold.ts";

type TrendRule = Extract<AlertRule, { type: "trend_prediction" }>;

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
export function evalTrend(rule: TrendRule, window: readonly Sample[]): Target | null {
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
