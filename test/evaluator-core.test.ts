import test from "ava";
import { RuleEvaluator } from "../server/actors/evaluator/evaluator.ts";
import { AgentRules } from "../server/alerts/agent-rules.ts";
import { compileRule } from "../server/alerts/rule-match.ts";
import type { AlertEvent, AlertRule, Observation } from "../server/alerts/types.ts";
import type { AgentRecord } from "../server/storage/control-store.ts";
import { tempControlStore } from "./helpers/temp-control.ts";

/*
 * The rule-evaluator's core without threads: a real store in a temp dir, observations made
 * by the window's own AgentRules, and a fake clock that the samples and ticks follow.
 */

const base = { agent_pattern: "*", labels: {}, silence_secs: 0, enabled: true, source: "api" as const };
const hot: AlertRule = { ...base, id: "hot", name: "hot", type: "threshold", metric: "cpu.usage", severity: "critical", operator: "gt", value: 90, duration_secs: 30 };
const offline: AlertRule = { ...base, id: "off", name: "off", type: "agent_offline", metric: "*", severity: "critical", offline_secs: 60 };

function setup(t: import("ava").ExecutionContext, rules: AlertRule[]) {
  const { control } = tempControlStore(t);
  const clock = { now: 1_000_000 };
  const agents: AgentRecord[] = [{ agent_id: "web-1", first_seen: clock.now, last_seen: clock.now, dropped_batches: 0 }];
  const evaluator = new RuleEvaluator({ store: control.alerts, agents: () => agents, owns: () => true });
  const window = new AgentRules("web-1", rules.map(compileRule));
  /** One report of cpu.usage at the clock's time, through the window's rules into the evaluator. */
  const report = async (value: number): Promise<AlertEvent[]> => {
    agents[0]!.last_seen = clock.now;
    const observations: Observation[] = [];
    window.feed("cpu.usage", "cpu.usage", {}, clock.now, value, observations);
    return (await evaluator.handle({ type: "observe", agentId: "web-1", observations })).events;
  };
  const tick = async () => (await evaluator.handle({ type: "tick", nowMs: clock.now })).events;
  return { control, clock, evaluator, report, tick, ready: () => evaluator.handle({ type: "rules", rules }) };
}

test("a threshold alert goes pending, fires once its duration has held, and resolves; the store keeps its state", async (t) => {
  const { control, clock, report, ready } = setup(t, [hot]);
  await ready();
  const statuses: string[] = [];
  for (const value of [50, 95, 95, 95, 95, 95, 40]) {
    statuses.push((await report(value)).map((e) => `${e.status}@${(clock.now - 1_000_000) / 1000}`).join() || "-");
    if (value === 95 && clock.now === 1_010_000) t.is([...control.alerts.states.getRange({})][0]?.value.state, "pending");
    clock.now += 10_000;
  }
  t.deepEqual(statuses, ["-", "-", "-", "-", "firing@40", "-", "resolved@60"], "fires 30 s after the breach began at 10 s");
  t.deepEqual(control.alerts.active(), []);
  t.deepEqual(control.alerts.queryHistory({ limit: 10, offset: 0 }).events.map((e) => e.status), ["resolved", "firing"]);
});

test("an alert that was never active leaves nothing in the store", async (t) => {
  const { control, clock, report, ready } = setup(t, [hot]);
  await ready();
  for (const value of [10, 20, 30]) {
    t.deepEqual(await report(value), []);
    clock.now += 10_000;
  }
  t.is(control.alerts.states.getCount(), 0);
});

test("agent_offline follows the clock: fires offline_secs after the last report, resolves on the next", async (t) => {
  const { clock, report, tick, ready } = setup(t, [offline]);
  await ready();
  await report(1);
  clock.now += 59_000;
  t.deepEqual(await tick(), []);
  clock.now += 1_000;
  t.deepEqual((await tick()).map((e) => [e.status, e.metric, e.value]), [["firing", "agent.offline", 60]]);
  clock.now += 5_000;
  t.deepEqual(await tick(), [], "fires once");
  await report(1);
  t.deepEqual((await tick()).map((e) => e.status), ["resolved"]);
});

test("the store applies a decision it knows nothing about, atomically; it refuses to write a state it did not read", async (t) => {
  const { control } = tempControlStore(t);
  const event: AlertEvent = {
    id: "e1", episode_id: "e1", status: "firing", rule_id: "r", rule_name: "r", agent_id: "a", metric: "m", labels: {},
    value: 1, threshold: 0, severity: "warning", message: "", fired_at: 5, resolved_at: null, predicted_at: null,
  };
  const state = {
    rule_id: "r", agent_id: "a", metric: "m", labels: {}, state: "firing" as const, severity: "warning" as const, since: 5, fired_at: 5,
    episode_id: "e1", silenced: false, last_fired_at: 5, value: 1, threshold: 0, message: "", predicted_at: null, updated_at: 5,
  };
  // Only the first of two concurrent updaters finds the alert unset: one event between them.
  const decide = (stored: ReadonlyMap<string, unknown>) => stored.has("k") ? { states: [], events: [] } : { states: [["k", state] as [string, typeof state]], events: [event] };
  const results = await Promise.all([control.alerts.update(["k"], decide), control.alerts.update(["k"], decide)]);
  t.is(results.flat().length, 1);
  t.deepEqual(control.alerts.queryHistory({ limit: 10, offset: 0 }).events.map((e) => e.id), ["e1"]);
  t.is(control.alerts.outbox.getCount(), 1);
  await t.throwsAsync(control.alerts.update(["k"], () => ({ states: [["other", state]], events: [{ ...event, id: "e2" }] })), { message: /without being read/ });
  t.is(control.alerts.states.get("other"), undefined);
  t.is(control.alerts.outbox.getCount(), 1, "nothing of a refused decision is written");
});
