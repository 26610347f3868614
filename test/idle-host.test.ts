import test from "ava";
import { readFileSync } from "node:fs";
import { RuleEvaluator } from "../server/actors/evaluator/evaluator.ts";
import { AgentRules } from "../server/alerts/agent-rules.ts";
import { RuleBook } from "../server/alerts/rule-book.ts";
import { compileRule } from "../server/alerts/rule-match.ts";
import type { AlertEvent, Observation } from "../server/alerts/types.ts";
import { seriesKey, type Labels } from "../common/metrics.ts";
import { loadServerConfig } from "../server/config/load.ts";
import type { AgentRecord } from "../server/storage/control-store.ts";
import { tempControlStore } from "./helpers/temp-control.ts";

/*
 * No example rule may fire on an idle machine. The fixture is this project's own agent
 * collectors recording a lightly loaded build host every 10 s (scripts/record-idle-host.ts,
 * then scripts/idle-fixture.ts); the example config's rules run over it through the window's
 * AgentRules and the evaluator's core, agent_offline ticks included.
 */

interface IdleFixture {
  agentId: string;
  intervalMs: number;
  timestamps: number[];
  series: { metric: string; labels: Labels; values: (number | null)[] }[];
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/idle-host-1h.json", import.meta.url), "utf8")) as IdleFixture;
const exampleFile = new URL("../config/server.example.toml", import.meta.url).pathname;

test("the fixture is at least half an hour of 10 s samples with the metrics the example rules watch", (t) => {
  const span = fixture.timestamps.at(-1)! - fixture.timestamps[0]!;
  t.true(span >= 30 * 60_000, `${span / 60_000} min`);
  t.is(fixture.intervalMs, 10_000);
  const metrics = new Set(fixture.series.map((s) => s.metric));
  for (const m of ["cpu.usage", "memory.used_percent", "disk.used_percent"]) t.true(metrics.has(m), m);
});

test("no example rule fires over the idle host's recording", async (t) => {
  const { control } = tempControlStore(t);
  const rules = new RuleBook(loadServerConfig(exampleFile).alert.rules, control.alerts).all();
  const agent: AgentRecord = { agent_id: fixture.agentId, first_seen: fixture.timestamps[0]!, last_seen: 0, dropped_batches: 0 };
  const evaluator = new RuleEvaluator({ store: control.alerts, agents: () => [agent], owns: () => true });
  await evaluator.handle({ type: "rules", rules });
  const window = new AgentRules(fixture.agentId, rules.map(compileRule));
  const keys = fixture.series.map((s) => seriesKey(s.metric, s.labels));

  const events: AlertEvent[] = [];
  const firing = new Set<string>();
  for (const [i, ts] of fixture.timestamps.entries()) {
    const observations: Observation[] = [];
    fixture.series.forEach((s, j) => {
      const value = s.values[i];
      if (value !== null && value !== undefined) window.feed(keys[j]!, s.metric, s.labels, ts, value, observations);
    });
    // Pending is allowed: the build host's own test runs spike the CPU for a few seconds.
    for (const o of observations) if (o.target.state === "firing") firing.add(`${o.ruleId}: ${o.target.message}`);
    agent.last_seen = ts;
    events.push(...(await evaluator.handle({ type: "observe", agentId: fixture.agentId, observations })).events);
    // The engine ticks every 5 s; a tick just before the next report is the one closest to offline.
    events.push(...(await evaluator.handle({ type: "tick", nowMs: ts + fixture.intervalMs - 1 })).events);
  }
  t.deepEqual([...firing], []);
  t.deepEqual(events.map((e) => e.message), []);
  t.true(rules.length >= 5);
});
