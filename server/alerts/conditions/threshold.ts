import { z } from "zod";
import type { RuleOf } from "../rule-fields.ts";
import type { Sample, Target } from "../types.ts";
import type { SeriesCondition } from "./condition.ts";

/** Per-series memory of a threshold rule: when the current breach began. */
export interface ThresholdState {
  since: number | null;
  lastTs: number | null;
  /** Spacing of the last two samples: the series' reporting interval as last seen. */
  intervalMs: number | null;
}

export const initialThresholdState = (): ThresholdState => ({ since: null, lastTs: null, intervalMs: null });

type Operator = { test: (v: number, t: number) => boolean; text: string };
/** The operators by name; the config's `operator` accepts exactly these. */
const OPS = {
  greater_than: { test: (v, t) => v > t, text: ">" }, less_than: { test: (v, t) => v < t, text: "<" },
  greater_equal: { test: (v, t) => v >= t, text: ">=" }, less_equal: { test: (v, t) => v <= t, text: "<=" },
  gt: { test: (v, t) => v > t, text: ">" }, lt: { test: (v, t) => v < t, text: "<" },
  gte: { test: (v, t) => v >= t, text: ">=" }, lte: { test: (v, t) => v <= t, text: "<=" },
} satisfies Record<string, Operator>;

const fields = {
  operator: z.enum(Object.keys(OPS) as [keyof typeof OPS, ...(keyof typeof OPS)[]]),
  value: z.number(),
  duration_secs: z.number().int().min(0).default(0),
};
export type ThresholdRule = RuleOf<"threshold", typeof fields>;

/**
 * Prometheus `for` semantics: the first breaching sample starts the clock; the alert fires
 * once every sample has breached for at least `duration_secs` of data; a non-breaching
 * sample, or a gap longer than three reporting intervals, resets the clock. Samples older
 * than the newest one seen are ignored (returns null).
 */
export function stepThreshold(rule: Pick<ThresholdRule, "metric" | "operator" | "value" | "duration_secs" | "severity">, state: ThresholdState, s: Sample): { state: ThresholdState; target: Target } | null {
  if (state.lastTs !== null && s.ts <= state.lastTs) return null;
  const op = OPS[rule.operator];
  const breaching = op.test(s.value, rule.value);
  const gap = state.lastTs === null ? 0 : s.ts - state.lastTs;
  const intervalMs = state.lastTs === null ? state.intervalMs : gap;
  const brokenByGap = state.intervalMs !== null && gap > 3 * state.intervalMs;
  const since = breaching ? (state.since === null || brokenByGap ? s.ts : state.since) : null;
  const next: ThresholdState = { since, lastTs: s.ts, intervalMs };
  const held = since === null ? -1 : s.ts - since;
  const firing = breaching && held >= rule.duration_secs * 1000;
  const base = { severity: rule.severity, ts: s.ts, value: s.value, threshold: rule.value };
  if (!breaching) {
    return { state: next, target: { ...base, state: "inactive", message: `${rule.metric} is ${fmt(s.value)}, back within ${op.text} ${fmt(rule.value)}` } };
  }
  const message = `${rule.metric} is ${fmt(s.value)} (${op.text} ${fmt(rule.value)})` +
    (rule.duration_secs ? ` for ${Math.round(held / 1000)}s of ${rule.duration_secs}s` : "");
  return { state: next, target: { ...base, state: firing ? "firing" : "pending", since: since!, message } };
}

export const threshold = {
  watches: "series",
  fields,
  // The step reads only the newest sample: its state remembers when the breach began.
  windowMs: () => 0,
  historyMs: (rule) => rule.duration_secs * 1000,
  initial: initialThresholdState,
  step: (rule, state, window) => {
    const r = stepThreshold(rule, state, window.at(-1)!);
    return r ?? { state, target: null };
  },
} as const satisfies SeriesCondition<ThresholdRule, ThresholdState>;

export function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}
