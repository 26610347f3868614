import test from "ava";
import { backtest } from "../server/alerts/backtest.ts";
import { evalAgentOffline } from "../server/alerts/conditions/agent-offline.ts";
import type { AlertState } from "../server/alerts/alert-state.ts";
import { transition } from "../server/alerts/lifecycle.ts";
import type { AlertEvent, AlertRule } from "../server/alerts/types.ts";
import type { AlertRuleConfig } from "../server/config/schema.ts";
import { alertRuleSchema } from "../server/config/schema.ts";

/*
 * The rule semantics, driven sample by sample through the same RuleRunner and lifecycle
 * transition the live evaluator uses (via the backtest, which is exactly that loop).
 * Timestamps are data time: the "clock" is the samples'.
 */

function rule(fields: Record<string, unknown>): AlertRule {
  const parsed = alertRuleSchema.parse({ name: "r", agent_pattern: "*", ...fields }) as AlertRuleConfig;
  return { ...parsed, id: "r", source: "api" } as AlertRule;
}

/** Episodes of `r` over samples [seconds, value] of one series. */
function episodes(r: AlertRule, samples: [number, number][]) {
  const records = samples.map(([s, value]) => ({ tsMs: s * 1000, points: [{ metric: r.metric, labels: {}, value }] }));
  return backtest({ rule: r, agents: ["a"], fromMs: 0, toMs: 1e12, readHistory: () => records })
    .map((e) => [e.fired_at / 1000, e.resolved_at === null ? null : e.resolved_at / 1000, e.severity]);
}

const every10s = (values: number[], start = 0): [number, number][] => values.map((v, i) => [start + i * 10, v]);

test("threshold: exactly at the threshold does not breach greater_than but does breach greater_equal", (t) => {
  t.deepEqual(episodes(rule({ type: "threshold", metric: "m", operator: "gt", value: 90 }), every10s([90, 90, 89])), []);
  t.deepEqual(episodes(rule({ type: "threshold", metric: "m", operator: "greater_equal", value: 90 }), every10s([90, 90, 89])), [[0, 20, "warning"]]);
  t.deepEqual(episodes(rule({ type: "threshold", metric: "m", operator: "lte", value: 5 }), every10s([6, 5, 6])), [[10, 20, "warning"]]);
});

test("threshold: fires once the breach has held duration_secs of data, resolves on the first good sample", (t) => {
  const r = rule({ type: "threshold", metric: "m", operator: "gt", value: 90, duration_secs: 30, severity: "critical" });
  t.deepEqual(episodes(r, every10s([95, 95, 95, 95, 95, 50])), [[30, 50, "critical"]]);
  t.deepEqual(episodes(r, every10s([95, 95, 95, 50])), [], "20 s of breach is not enough");
});

test("threshold: duration 0 fires on the first breaching sample; a single sample with a duration only pends", (t) => {
  t.deepEqual(episodes(rule({ type: "threshold", metric: "m", operator: "gt", value: 1, duration_secs: 0 }), [[5, 2]]), [[5, null, "warning"]]);
  t.deepEqual(episodes(rule({ type: "threshold", metric: "m", operator: "gt", value: 1, duration_secs: 10 }), [[5, 2]]), []);
});

test("threshold: a gap longer than three intervals restarts the clock", (t) => {
  const r = rule({ type: "threshold", metric: "m", operator: "gt", value: 90, duration_secs: 30 });
  // breach at 0, 10, 20; nothing until 100 (gap 80 s > 3 × 10 s): the clock restarts at 100.
  t.deepEqual(episodes(r, [[0, 95], [10, 95], [20, 95], [100, 95], [110, 95], [120, 95], [130, 95]]), [[130, null, "warning"]]);
  // A gap of 30 s (= 3 intervals) does not.
  t.deepEqual(episodes(r, [[0, 95], [10, 95], [40, 95]]), [[40, null, "warning"]]);
});

test("threshold: out-of-order samples are ignored", (t) => {
  const r = rule({ type: "threshold", metric: "m", operator: "gt", value: 90, duration_secs: 0 });
  t.deepEqual(episodes(r, [[0, 95], [20, 95], [10, 50], [30, 50]]), [[0, 30, "warning"]], "the late good sample at 10 s does not resolve");
});

test("threshold: flapping gives an episode per breach; silence_secs swallows new episodes within it", (t) => {
  const flapping = every10s([95, 50, 95, 50, 95, 50]);
  t.deepEqual(episodes(rule({ type: "threshold", metric: "m", operator: "gt", value: 90 }), flapping),
    [[0, 10, "warning"], [20, 30, "warning"], [40, 50, "warning"]]);
  t.deepEqual(episodes(rule({ type: "threshold", metric: "m", operator: "gt", value: 90, silence_secs: 30 }), flapping),
    [[0, 10, "warning"], [40, 50, "warning"]], "the episode at 20 s (within 30 s of the firing at 0) is silenced, firing and resolved");
});

test("rate_of_change: fires on |last − first| / |first| ≥ rate_threshold within the window", (t) => {
  const r = rule({ type: "rate_of_change", metric: "m", rate_threshold: 20, window_secs: 30 });
  // At 40 s the 30 s window starts at 10 s (105 → 121 is 15 %): resolved.
  t.deepEqual(episodes(r, every10s([100, 105, 110, 121, 121, 121, 121])), [[30, 40, "warning"]]);
  t.deepEqual(episodes(r, every10s([100, 95, 80])), [[20, null, "warning"]], "a fall counts too");
  t.deepEqual(episodes(r, every10s([0, 50, 100])), [], "the window's first value is 0 throughout");
  t.deepEqual(episodes(rule({ type: "rate_of_change", metric: "m", rate_threshold: 20, window_secs: 10 }), every10s([0, 50, 100])),
    [[20, null, "warning"]], "once the 0 leaves the window, 50 → 100 fires");
  t.deepEqual(episodes(rule({ type: "rate_of_change", metric: "m", rate_threshold: 20, window_secs: 5 }), every10s([100, 200])), [],
    "fewer than two samples in the window");
  t.deepEqual(episodes(rule({ type: "rate_of_change", metric: "m", rate_threshold: 20, window_secs: 100 }), every10s([0, 0, 500])), [],
    "no alert when the first value is 0");
});

test("trend_prediction: fires when the fitted line reaches the threshold within the horizon, with the predicted time", (t) => {
  const r = rule({ type: "trend_prediction", metric: "m", predict_threshold: 95, horizon_secs: 600, min_data_points: 5, window_secs: 3600 });
  const rising = every10s([50, 51, 52, 53, 54, 55]); // +0.1/s: reaches 95 at 450 s, 400 s after the last sample
  const records = rising.map(([s, value]) => ({ tsMs: s * 1000, points: [{ metric: "m", labels: {}, value }] }));
  const eps = backtest({ rule: r, agents: ["a"], fromMs: 0, toMs: 1e12, readHistory: () => records });
  t.deepEqual(eps.map((e) => [e.fired_at / 1000, e.predicted_at! / 1000]), [[40, 450]], "fires at the 5th point (40 s), crossing predicted at 450 s");
  t.deepEqual(episodes(rule({ type: "trend_prediction", metric: "m", predict_threshold: 95, horizon_secs: 60, min_data_points: 5 }), rising), [],
    "beyond the horizon");
  t.deepEqual(episodes(r, every10s([50, 51, 52, 53])), [], "fewer than min_data_points");
  t.deepEqual(episodes(r, every10s([50, 51, 52, 53, 54, 96])), [[40, 50, "warning"]], "once the value has crossed, the prediction no longer fires");
  t.deepEqual(episodes(r, every10s([90, 88, 86, 84, 82])), [], "a falling line never reaches an upper threshold");
});

test("cert_expiration: the tier sets severity; a worse tier fires again; better tiers do not", (t) => {
  const r = rule({ type: "cert_expiration", warning_days: 30, critical_days: 7, agent_pattern: "*" });
  const r2 = { ...r, metric: "m" } as AlertRule;
  const records = every10s([40, 25, 20, 5, 6, 25, 90]).map(([s, value]) => ({ tsMs: s * 1000, points: [{ metric: "m", labels: {}, value }] }));
  const events: AlertEvent[] = [];
  let state: AlertState | undefined;
  for (const { tsMs, points } of records) {
    const tier = points[0]!.value <= 7 ? "critical" : points[0]!.value <= 30 ? "warning" : null;
    const target = { state: tier ? "firing" as const : "inactive" as const, severity: (tier ?? "critical") as "warning" | "critical", ts: tsMs, value: points[0]!.value, threshold: 30, message: "" };
    const res = transition(r2, { ruleId: "r", agentId: "a", metric: "m", labels: {} }, state, target)!;
    state = res.next;
    events.push(...res.events);
  }
  t.deepEqual(events.map((e) => [e.status, e.severity, e.fired_at / 1000, e.resolved_at === null ? null : e.resolved_at / 1000]), [
    ["firing", "warning", 10, null],
    ["firing", "critical", 30, null],
    ["resolved", "critical", 10, 60],
  ]);
  t.deepEqual(episodes(r2, every10s([40, 25, 5, 90])), [[10, 30, "critical"]], "the backtest reports one episode at its worst tier");
});

test("agent_offline: offline after offline_secs of silence, resolved when it reports again", (t) => {
  const r = rule({ type: "agent_offline", offline_secs: 60, severity: "critical" });
  const key = { ruleId: "r", agentId: "a", metric: "agent.offline", labels: {} };
  let state: AlertState | undefined;
  const events: AlertEvent[] = [];
  for (const [lastSeen, now] of [[0, 30_000], [0, 59_999], [0, 60_000], [0, 120_000], [130_000, 135_000]] as const) {
    const res = transition(r, key, state, evalAgentOffline(r as Extract<AlertRule, { type: "agent_offline" }>, lastSeen, now));
    if (!res) continue;
    state = res.next;
    events.push(...res.events);
  }
  t.deepEqual(events.map((e) => [e.status, e.fired_at, e.resolved_at]), [["firing", 60_000, null], ["resolved", 60_000, 135_000]]);
  t.deepEqual(episodes(r, [[0, 1], [10, 1], [100, 1], [110, 1]]), [[70, 100, "critical"], [170, null, "critical"]],
    "the backtest finds the gap, and the silence after the last report");
});
