import test from "ava";
import type { StoredPoint } from "../server/storage/metric-store.ts";
import { AgentWindow } from "../server/actors/window/window.ts";
import type { SampleBlock } from "../server/actors/protocol/messages.ts";
import { toSeriesText } from "../common/series-text.ts";
import type { AlertRule } from "../server/alerts/types.ts";
import type { Labels } from "../common/metrics.ts";

type Point = [metric: string, labels: Labels, ts: number, value: number];

/** Storage plus the shared registry's last_seen, as ingest leaves them before the window hears. */
function fakeIngest() {
  const records: { agentId: string; tsMs: number; points: StoredPoint[] }[] = [];
  const lastSeen = new Map<string, number>();
  const reads: [string, number, number][] = [];
  return {
    records, reads,
    readHistory(agentId: string, fromMs: number, toMs: number) {
      reads.push([agentId, fromMs, toMs]);
      return records.filter((r) => r.agentId === agentId && r.tsMs >= fromMs && r.tsMs <= toMs).sort((a, b) => a.tsMs - b.tsMs);
    },
    /** Stores a report and returns the samples message the window would get. */
    store(agentId: string, points: Point[]) {
      for (const [metric, labels, ts, value] of points) records.push({ agentId, tsMs: ts, points: [{ metric, labels, value }] });
      const prevLastSeen = lastSeen.get(agentId) ?? 0;
      lastSeen.set(agentId, Math.max(prevLastSeen, ...points.map((p) => p[2])));
      return { type: "samples" as const, agentId, prevLastSeen, samples: block(points) };
    },
  };
}

function block(points: Point[]): SampleBlock {
  return {
    series: toSeriesText(points.map(([m, l]) => [m, l])),
    timestamps: Float64Array.from(points.map(([, , ts]) => ts)), values: Float64Array.from(points.map(([, , , v]) => v)),
  };
}

const highCpu: AlertRule = {
  id: "r1", name: "high-cpu", type: "threshold", metric: "cpu.usage", agent_pattern: "web-*", labels: {},
  severity: "critical", silence_secs: 0, enabled: true, operator: "greater_than", value: 90, duration_secs: 20, source: "api",
};

test("latest keeps the newest value per series; out-of-order samples do not replace it", (t) => {
  const ing = fakeIngest();
  const w = new AgentWindow({ ...ing, now: () => 10_000, rebuildHorizonMs: 5_000 });
  w.handle(ing.store("a", [["cpu.usage", {}, 9_000, 50], ["disk.used", { mount: "/" }, 9_000, 1]]));
  w.handle(ing.store("a", [["cpu.usage", {}, 8_000, 99]]));
  const latest = w.handle({ type: "latest", agentId: "a" });
  t.is(latest.lastReport, 9_000);
  t.deepEqual(latest.values.map((v) => [v.metric, v.value]), [["cpu.usage", 50], ["disk.used", 1]]);
  // A newer sample moves the held value; an answer already given stays as it was.
  w.handle(ing.store("a", [["cpu.usage", {}, 9_500, 70]]));
  t.deepEqual(latest.values[0], { metric: "cpu.usage", labels: {}, timestamp: 9_000, value: 50 });
  t.is(w.handle({ type: "latest", agentId: "a" }).values[0]!.value, 70);
});

test("a first-seen agent is learnt from storage over the horizon, and later reads catch up", (t) => {
  const ing = fakeIngest();
  let now = 100_000;
  ing.store("a", [["old.metric", {}, 10_000, 1]]);
  ing.store("a", [["load.load_1", {}, 90_000, 0.7]]);
  const w = new AgentWindow({ ...ing, now: () => now, rebuildHorizonMs: 60_000 });
  t.deepEqual(w.handle({ type: "latest", agentId: "a" }).values.map((v) => v.metric), ["load.load_1"], "only the horizon is read");
  // Another process stores a newer report; the next read picks it up from storage.
  ing.store("a", [["load.load_1", {}, 95_000, 1.5]]);
  now = 96_000;
  const latest = w.handle({ type: "latest", agentId: "a" });
  t.is(ing.reads.at(-1)![1], 90_001, "catch-up reads only after the newest known report");
  t.deepEqual(latest.values.map((v) => v.value), [1.5]);
});

test("rules: observations flow from samples; a steady inactive is sent once", (t) => {
  const ing = fakeIngest();
  const w = new AgentWindow({ ...ing, now: () => 1_000_000, rebuildHorizonMs: 600_000 });
  w.handle({ type: "rules", rules: [highCpu] });
  const states = (ts: number, v: number) => w.handle(ing.store("web-1", [["cpu.usage", {}, ts, v]])).observations.map((o) => o.target.state);
  t.deepEqual(states(900_000, 50), ["inactive"]);
  t.deepEqual(states(910_000, 60), [], "inactive again is not re-sent");
  t.deepEqual(states(920_000, 95), ["pending"]);
  t.deepEqual(states(930_000, 96), ["pending"]);
  t.deepEqual(states(940_000, 97), ["firing"], "20 s of breaching data");
  t.deepEqual(w.handle(ing.store("db-1", [["cpu.usage", {}, 940_000, 99]])).observations, [], "agent_pattern excludes db-1");
});

test("rules: reports the shard missed (another instance took them) are replayed, keeping the pending clock", (t) => {
  const ing = fakeIngest();
  const w = new AgentWindow({ ...ing, now: () => 1_000_000, rebuildHorizonMs: 600_000 });
  w.handle({ type: "rules", rules: [highCpu] });
  w.handle(ing.store("web-1", [["cpu.usage", {}, 900_000, 95]]));
  ing.store("web-1", [["cpu.usage", {}, 910_000, 95]]); // ingested elsewhere: this shard never hears of it
  const obs = w.handle(ing.store("web-1", [["cpu.usage", {}, 920_000, 95]])).observations;
  // The replay's verdict up to the missed report, then this report live.
  t.deepEqual(obs.map((o) => [o.target.state, o.target.since]), [["pending", 900_000], ["firing", 900_000]]);
});

test("rules: a new agent's report is fed live even when a later one is stored already; breach and recovery both count", (t) => {
  const ing = fakeIngest();
  const w = new AgentWindow({ ...ing, now: () => 1_000_000, rebuildHorizonMs: 600_000 });
  w.handle({ type: "rules", rules: [{ ...highCpu, duration_secs: 0 }] });
  const breach = ing.store("web-1", [["cpu.usage", {}, 900_000, 95]]);
  const recovery = ing.store("web-1", [["cpu.usage", {}, 910_000, 40]]); // stored before the window saw the breach
  t.deepEqual(w.handle(breach).observations.map((o) => o.target.state), ["firing"]);
  t.deepEqual(w.handle(recovery).observations.map((o) => o.target.state), ["inactive"]);
});

test("rules: a restarted shard rebuilds the pending clock from storage", (t) => {
  const ing = fakeIngest();
  ing.store("web-1", [["cpu.usage", {}, 900_000, 95]]);
  ing.store("web-1", [["cpu.usage", {}, 910_000, 95]]);
  const w = new AgentWindow({ ...ing, now: () => 1_000_000, rebuildHorizonMs: 600_000 });
  w.handle({ type: "rules", rules: [highCpu] });
  const obs = w.handle(ing.store("web-1", [["cpu.usage", {}, 920_000, 95]])).observations;
  t.deepEqual(obs.map((o) => [o.target.state, o.target.since]), [["pending", 900_000], ["firing", 900_000]]);
});

test("a report of another shape (series added, reordered) lands on the right series; a rule change re-reads the shape", (t) => {
  const ing = fakeIngest();
  const w = new AgentWindow({ ...ing, now: () => 1_000_000, rebuildHorizonMs: 600_000 });
  w.handle({ type: "rules", rules: [{ ...highCpu, duration_secs: 0 }] });
  const state = (o: { observations: { target: { state: string } }[] }) => o.observations.map((x) => x.target.state);
  t.deepEqual(state(w.handle(ing.store("web-1", [["cpu.usage", {}, 900_000, 50], ["disk.used", { mount: "/" }, 900_000, 10]]))), ["inactive"]);
  // Same series, other order, one more: each value must reach its own series and rules.
  t.deepEqual(state(w.handle(ing.store("web-1", [
    ["disk.used", { mount: "/data" }, 910_000, 30], ["disk.used", { mount: "/" }, 910_000, 11], ["cpu.usage", {}, 910_000, 95],
  ]))), ["firing"]);
  const values = () => w.handle({ type: "latest", agentId: "web-1" }).values.map((v) => [v.metric, v.labels, v.value]);
  t.deepEqual(values(), [["cpu.usage", {}, 95], ["disk.used", { mount: "/" }, 11], ["disk.used", { mount: "/data" }, 30]]);
  // New rules replace the rule state the cached shape pointed at; the next report must use the new one.
  w.handle({ type: "rules", rules: [{ ...highCpu, id: "r2", value: 20, duration_secs: 0 }] });
  const obs = w.handle(ing.store("web-1", [
    ["disk.used", { mount: "/data" }, 920_000, 31], ["disk.used", { mount: "/" }, 920_000, 12], ["cpu.usage", {}, 920_000, 25],
  ])).observations;
  // The replay's verdict over stored history, then this report live, both under r2 alone.
  t.deepEqual(obs.map((o) => [o.ruleId, o.target.state]), [["r2", "firing"], ["r2", "firing"]]);
  t.deepEqual(values(), [["cpu.usage", {}, 25], ["disk.used", { mount: "/" }, 12], ["disk.used", { mount: "/data" }, 31]]);
});

test("stats counts agents, series, watched series and memory per agent", (t) => {
  const ing = fakeIngest();
  const w = new AgentWindow({ ...ing, now: () => 10, rebuildHorizonMs: 100 });
  w.handle({ type: "rules", rules: [highCpu] });
  w.handle(ing.store("web-1", [["cpu.usage", {}, 1, 1], ["m", { x: "1" }, 1, 1]]));
  w.handle(ing.store("b", [["m", {}, 1, 1]]));
  const stats = w.handle({ type: "stats" });
  t.like(stats, { type: "stats", agents: 2, series: 3, ruleSeries: 1 });
  t.true(stats.bytesPerAgent > 0);
});
