import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { RuleEvaluator } from "../server/actors/evaluator/evaluator.ts";
import type { AlertRule, Observation } from "../server/alerts/types.ts";
import { ControlStore } from "../server/storage/control-store.ts";

const rule: AlertRule = {
  id: "r1", name: "high-cpu", type: "threshold", metric: "cpu.usage", agent_pattern: "*", labels: {}, severity: "critical",
  silence_secs: 0, enabled: true, operator: "gt", value: 90, duration_secs: 0, source: "api",
};
const offline: AlertRule = {
  id: "r2", name: "offline", type: "agent_offline", metric: "*", agent_pattern: "*", labels: {}, severity: "critical",
  silence_secs: 0, enabled: true, offline_secs: 60, source: "api",
};

function observation(state: "firing" | "inactive", ts: number, value: number): Observation {
  return {
    ruleId: "r1", agentId: "web-1", metric: "cpu.usage", labels: {},
    target: { state, severity: "critical", ts, value, threshold: 90, message: "m" },
  };
}

function twoEvaluators(t: import("ava").ExecutionContext) {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-eval-"));
  // Two handles on one data dir, as two PM2 instances (or two shards) have.
  const stores = [new ControlStore(dir), new ControlStore(dir)];
  t.teardown(async () => {
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const evaluators = stores.map((store) => new RuleEvaluator({ store: store.alerts, agents: () => store.listAgents(), owns: () => true }));
  return { stores, evaluators };
}

test("two evaluators given the same observations concurrently emit each event once", async (t) => {
  const { stores, evaluators } = twoEvaluators(t);
  for (const e of evaluators) await e.handle({ type: "rules", rules: [rule, offline] });
  const fire = [observation("firing", 1_000, 95)];
  const results = await Promise.all(evaluators.map((e) => e.handle({ type: "observe", agentId: "web-1", observations: fire })));
  t.is(results.flatMap((r) => r.events).length, 1, "one firing event between them");
  const resolve = [observation("inactive", 2_000, 50)];
  const again = await Promise.all([...evaluators, ...evaluators].map((e) => e.handle({ type: "observe", agentId: "web-1", observations: resolve })));
  t.deepEqual(again.flatMap((r) => r.events).map((e) => e.status), ["resolved"]);
  const history = stores[1]!.alerts.queryHistory({ limit: 10, offset: 0 });
  t.deepEqual(history.events.map((e) => e.status), ["resolved", "firing"]);
});

test("an observation older than the stored state is ignored (a late report from another instance)", async (t) => {
  const { evaluators } = twoEvaluators(t);
  const [a, b] = evaluators as [RuleEvaluator, RuleEvaluator];
  for (const e of evaluators) await e.handle({ type: "rules", rules: [rule] });
  await a.handle({ type: "observe", agentId: "web-1", observations: [observation("firing", 1_000, 95)] });
  await a.handle({ type: "observe", agentId: "web-1", observations: [observation("inactive", 3_000, 50)] });
  const late = await b.handle({ type: "observe", agentId: "web-1", observations: [observation("firing", 2_000, 96)] });
  t.deepEqual(late.events, []);
});

test("agent_offline fires on a tick once the agent is silent, and resolves when it reports", async (t) => {
  const { stores, evaluators } = twoEvaluators(t);
  const [a, b] = evaluators as [RuleEvaluator, RuleEvaluator];
  for (const e of evaluators) await e.handle({ type: "rules", rules: [offline] });
  await stores[0]!.touchAgent("web-1", 10_000, undefined, 0);
  t.deepEqual((await a.handle({ type: "tick", nowMs: 50_000 })).events, []);
  const [ta, tb] = await Promise.all([a.handle({ type: "tick", nowMs: 70_000 }), b.handle({ type: "tick", nowMs: 70_001 })]);
  const fired = [...ta.events, ...tb.events];
  t.deepEqual(fired.map((e) => [e.status, e.metric, e.value]), [["firing", "agent.offline", 60]]);
  await stores[0]!.touchAgent("web-1", 80_000, undefined, 0);
  const back = await a.handle({ type: "tick", nowMs: 81_000 });
  t.deepEqual(back.events.map((e) => e.status), ["resolved"]);
});

test("rules are read from the store: deleted or disabled rules' observations are dropped", async (t) => {
  const { evaluators } = twoEvaluators(t);
  const [a] = evaluators as [RuleEvaluator];
  await a.handle({ type: "rules", rules: [{ ...rule, enabled: false }] });
  t.deepEqual((await a.handle({ type: "observe", agentId: "web-1", observations: [observation("firing", 1_000, 95)] })).events, []);
  await a.handle({ type: "rules", rules: [] });
  t.deepEqual((await a.handle({ type: "observe", agentId: "web-1", observations: [observation("firing", 2_000, 95)] })).events, []);
});
