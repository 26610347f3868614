import test from "ava";
import { backtest } from "../server/alerts/backtest.ts";
import type { AlertRule } from "../server/alerts/types.ts";
import { alertRuleSchema } from "../server/config/schema.ts";
import { loadServerConfig } from "../server/config/load.ts";

/*
 * rate_of_change as docs/rules.md defines it: percentage points for `*_percent` metrics,
 * relative change otherwise, and `min_delta` as an absolute floor.
 */

const exampleFile = new URL("../config/server.example.toml", import.meta.url).pathname;

function rule(fields: Record<string, unknown>): AlertRule {
  return { ...alertRuleSchema.parse({ name: "r", type: "rate_of_change", window_secs: 300, ...fields }), id: "r", source: "api" } as AlertRule;
}

/** Episodes of `r` over samples [seconds, value] of its metric: [fired s, resolved s | null]. */
function episodes(r: AlertRule, samples: [number, number][]) {
  const records = samples.map(([s, value]) => ({ tsMs: s * 1000, points: [{ metric: r.metric, labels: {}, value }] }));
  return backtest({ rule: r, agents: ["a"], fromMs: 0, toMs: 1e12, readHistory: () => records })
    .map((e) => [e.fired_at / 1000, e.resolved_at === null ? null : e.resolved_at / 1000]);
}

test("the example memory-spike rule does not fire when idle memory goes 4.92 → 3.74 % (1.18 points, −24 % relative)", (t) => {
  const example = loadServerConfig(exampleFile).alert.rules.find((r) => r.name === "memory-spike");
  const memorySpike = { ...example, id: "memory-spike", source: "config" } as AlertRule;
  t.deepEqual(episodes(memorySpike, [[0, 4.92], [60, 4.5], [120, 4.1], [240, 3.74]]), []);
});

test("a *_percent metric changes by percentage points: 30 → 55 % is 25 points", (t) => {
  const r = rule({ metric: "memory.used_percent", rate_threshold: 20 });
  t.deepEqual(episodes(r, [[0, 30], [60, 40], [120, 55], [180, 55], [480, 55]]), [[120, 480]], "resolved once 30 leaves the 300 s window");
  t.deepEqual(episodes(r, [[0, 60], [60, 39]]), [[60, null]], "a fall counts too");
  t.deepEqual(episodes(r, [[0, 0], [60, 25]]), [[60, null]], "points need no non-zero start");
  t.deepEqual(episodes(r, [[0, 50], [60, 69.9]]), []);
});

test("other metrics change relatively; min_delta keeps small absolute moves quiet", (t) => {
  const relative = rule({ metric: "network.bytes_recv", rate_threshold: 50 });
  t.deepEqual(episodes(relative, [[0, 100], [10, 1000]]), [[10, null]], "900 % of almost nothing");
  const floored = rule({ metric: "network.bytes_recv", rate_threshold: 50, min_delta: 1e6 });
  t.deepEqual(episodes(floored, [[0, 100], [10, 1000]]), [], "a 900 B/s move is below the 1 MB/s floor");
  t.deepEqual(episodes(floored, [[0, 1e6], [10, 3e6]]), [[10, null]], "+200 % and 2 MB/s");
  t.deepEqual(episodes(floored, [[0, 1e8], [10, 1.01e8]]), [], "1 MB/s but only +1 %");
  t.deepEqual(episodes(rule({ metric: "memory.used_percent", rate_threshold: 5, min_delta: 10 }), [[0, 30], [10, 38]]), [],
    "on a percent metric the floor applies to the points too");
});

test("min_delta must not be negative", (t) => {
  t.false(alertRuleSchema.safeParse({ name: "r", type: "rate_of_change", metric: "m", rate_threshold: 1, window_secs: 60, min_delta: -1 }).success);
});
