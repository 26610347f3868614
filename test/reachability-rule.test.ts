import test from "ava";
import { RuleEvaluator } from "../server/actors/evaluator/evaluator.ts";
import { AgentRules } from "../server/alerts/agent-rules.ts";
import { decideReachability, type ReachabilityRule } from "../server/alerts/conditions/reachability.ts";
import { ruleIssues } from "../server/alerts/conditions/registry.ts";
import { compileRule } from "../server/alerts/rule-match.ts";
import type { AlertEvent, AlertRule, Observation, Target } from "../server/alerts/types.ts";
import { alertRuleSchema } from "../server/config/schema.ts";
import { tempControlStore } from "./helpers/temp-control.ts";

/*
 * The reachability rule without threads: a real control store in a temp dir, the window's
 * own AgentRules making each agent's observations, and two RuleEvaluator cores (two shards,
 * each owning some agents) deciding the one alert through the shared store.
 */

const rule = alertRuleSchema.parse({ name: "db-unreachable", type: "reachability", check: "db", min_failing_agents: 2, duration_secs: 20, severity: "critical" });
const dbRule: AlertRule = { ...rule, id: "db", source: "config" };

test("config: defaults fill in, the metric is check.up, unknown fields and labels.check are refused", (t) => {
  t.like(alertRuleSchema.parse({ name: "r", type: "reachability", check: "db" }), { metric: "check.up", min_failing_agents: 1, duration_secs: 0, severity: "warning" });
  t.false(alertRuleSchema.safeParse({ name: "r", type: "reachability", check: "db", metric: "cpu.usage" }).success);
  t.false(alertRuleSchema.safeParse({ name: "r", type: "reachability" }).success, "check is required");
  t.false(alertRuleSchema.safeParse({ name: "r", type: "reachability", check: "db", min_failing_agents: 0 }).success);
  t.false(alertRuleSchema.safeParse({ name: "r", type: "reachability", check: "db", min_agents: 2 }).success);
  t.deepEqual(ruleIssues(alertRuleSchema.parse({ name: "r", type: "reachability", check: "db", labels: { check: "x" } })).map((i) => i.field), ["labels"]);
});

test("the rule selects exactly its check's check.up series", (t) => {
  const compiled = compileRule(dbRule);
  t.true(compiled.matchesSeries("check.up", { check: "db", type: "tcp", target: "db:5432" }));
  t.false(compiled.matchesSeries("check.up", { check: "db2", type: "tcp", target: "db:5432" }));
  t.false(compiled.matchesSeries("check.rtt_ms", { check: "db" }));
});

const vote = (state: Target["state"], ts: number, target = "db:5432") => ({ target: { state, ts, severity: "critical" as const, value: 0, threshold: 1, message: "" }, labels: { check: "db", target } });

test("decide: k of the counted agents, stale votes left out, failing agents named with their reason and last hop", (t) => {
  const r = rule as ReachabilityRule;
  const facts = (agentId: string) => agentId === "a" ? { reason: "refused: connect ECONNREFUSED", lastHop: "10.0.0.1 (ttl 2)" } : {};
  const one = decideReachability(r, new Map([["a", vote("firing", 100_000)], ["b", vote("inactive", 100_000)], ["c", vote("pending", 100_000)]]), facts);
  t.like(one, { state: "inactive", value: 1, threshold: 2 });
  t.is(one.message, "db (db:5432) reachable: 1 of 3 agents failing, fewer than 2");
  const two = decideReachability(r, new Map([["b", vote("firing", 100_000)], ["a", vote("firing", 90_000)], ["c", vote("inactive", 100_000)]]), facts);
  t.like(two, { state: "firing", value: 2, ts: 100_000 });
  t.is(two.message, "db (db:5432) unreachable from 2 of 3 agents for 20s: a (refused: connect ECONNREFUSED; last hop 10.0.0.1 (ttl 2)), b");
  // A vote more than 10 minutes older than the newest is an agent that stopped running the check.
  const stale = decideReachability(r, new Map([["a", vote("firing", 100_000)], ["b", vote("firing", 100_000 + 11 * 60_000)]]), facts);
  t.like(stale, { state: "inactive", value: 1 });
  t.regex(stale.message, /1 of 1 agents failing/);
});

function setup(t: import("ava").ExecutionContext) {
  const { control } = tempControlStore(t);
  const agents = ["a1", "a2", "a3"];
  // Two shards: a1 on one, a2 and a3 on the other, as shardOf might spread them.
  const shardOf = (agentId: string) => (agentId === "a1" ? 0 : 1);
  const shards = [0, 1].map((s) => new RuleEvaluator({
    store: control.alerts, agents: () => [], owns: (agentId) => shardOf(agentId) === s,
    voterFacts: (check, agentId) => control.checkEvents.facts(check, agentId),
  }));
  const windows = new Map(agents.map((a) => [a, new AgentRules(a, [compileRule(dbRule)])]));
  const report = async (agentId: string, up: number, ts: number): Promise<AlertEvent[]> => {
    const observations: Observation[] = [];
    windows.get(agentId)!.feed(`check.up{check="db"}`, "check.up", { check: "db", type: "tcp", target: "db:5432" }, ts, up, observations);
    return (await shards[shardOf(agentId)]!.handle({ type: "observe", agentId, observations })).events;
  };
  return { control, shards, agents, report, ready: () => Promise.all(shards.map((s) => s.handle({ type: "rules", rules: [dbRule] }))) };
}

test("k of n across shards: one agent failing raises nothing with k = 2; two raise one alert naming both; healing resolves it", async (t) => {
  const { control, agents, report, ready } = setup(t);
  await ready();
  await control.checkEvents.write("a2", [{ check: "db", type: "tcp", target: "db:5432", timestampMs: 5_000, kind: "down", up: false, reasonCode: "timeout", reasonMessage: "no answer in time" }]);
  const events: AlertEvent[] = [];
  const round = async (ts: number, failing: string[]) => {
    for (const a of agents) events.push(...await report(a, failing.includes(a) ? 0 : 1, ts));
  };
  for (let ts = 0; ts <= 40_000; ts += 10_000) await round(ts, ["a1"]);
  t.deepEqual(events, [], "one failing agent of three is fewer than k = 2");
  for (let ts = 50_000; ts <= 60_000; ts += 10_000) await round(ts, ["a1", "a2"]);
  t.deepEqual(events, [], "a2 has failed for 10 s of the 20 s duration");
  for (let ts = 70_000; ts <= 90_000; ts += 10_000) await round(ts, ["a1", "a2"]);
  t.is(events.length, 1, "one alert, not one per agent or per report");
  t.like(events[0], { status: "firing", rule_id: "db", agent_id: "*", metric: "check.up", labels: { check: "db" }, value: 2, threshold: 2, severity: "critical" });
  t.regex(events[0]!.message, /db \(db:5432\) unreachable from 2 of 3 agents for 20s: a1, a2 \(timeout: no answer in time\)/);
  await round(100_000, ["a1"]);
  t.is(events.length, 2);
  t.like(events[1], { status: "resolved", agent_id: "*", episode_id: events[0]!.id });
  await round(110_000, []);
  t.is(events.length, 2, "nothing more once resolved");
  t.deepEqual(control.alerts.active(), []);
});

test("deleting the rule forgets its votes", async (t) => {
  const { control, report, ready } = setup(t);
  await ready();
  for (let ts = 0; ts <= 30_000; ts += 10_000) t.deepEqual(await report("a1", 0, ts), []);
  await control.alerts.dropRuleState("db");
  // a2 fails long enough too: a1's forgotten (firing) vote must not make it 2 of k = 2.
  const events: AlertEvent[] = [];
  for (let ts = 40_000; ts <= 80_000; ts += 10_000) events.push(...await report("a2", 0, ts));
  t.deepEqual(events, []);
});
