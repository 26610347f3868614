import { seriesKey, type Labels } from "../../common/metrics.ts";
import type { StoredPoint } from "../storage/metric-store.ts";
import type { AgentCondition } from "./conditions/condition.ts";
import { conditionOf } from "./conditions/registry.ts";
import type { AlertState } from "./alert-state.ts";
import { transitionAll } from "./lifecycle.ts";
import { compileRule } from "./rule-match.ts";
import { RuleRunner } from "./rule-runner.ts";
import type { AlertEvent, AlertKey, AlertRule, Target } from "./types.ts";

/** One alert episode the rule would have produced. */
export interface Episode {
  agent_id: string;
  metric: string;
  labels: Labels;
  severity: AlertEvent["severity"];
  fired_at: number;
  resolved_at: number | null;
  value: number;
  message: string;
  predicted_at: number | null;
}

export interface BacktestInput {
  rule: AlertRule;
  agents: readonly string[];
  fromMs: number;
  toMs: number;
  readHistory(agentId: string, fromMs: number, toMs: number): Iterable<{ tsMs: number; points: StoredPoint[] }>;
}

/**
 * Runs a rule over stored history with exactly the live machinery — the same RuleRunner
 * per series and the same lifecycle transition, silence and tiers included — and returns
 * the episodes it would have produced, oldest first. An episode still open at `toMs` has
 * `resolved_at: null`.
 */
export function backtest(input: BacktestInput): Episode[] {
  const { rule, fromMs, toMs } = input;
  const compiled = compileRule({ ...rule, enabled: true });
  const states = new Map<string, AlertState>();
  const events: AlertEvent[] = [];
  const apply = (key: AlertKey, target: Target) => {
    const update = transitionAll([{ rule, key, target }], states);
    for (const [k, state] of update.states) states.set(k, state);
    events.push(...update.events);
  };

  for (const agentId of input.agents) {
    if (!compiled.matchesAgent(agentId)) continue;
    const condition = conditionOf(rule);
    if (condition.watches === "agent") {
      agentEpisodes(rule, condition, agentId, input, apply);
      continue;
    }
    const runners = new Map<string, { runner: RuleRunner; metric: string; labels: Labels }>();
    for (const { tsMs, points } of input.readHistory(agentId, fromMs, toMs)) {
      for (const p of points) {
        if (!compiled.matchesSeries(p.metric, p.labels)) continue;
        const key = seriesKey(p.metric, p.labels);
        let r = runners.get(key);
        if (!r) runners.set(key, (r = { runner: new RuleRunner(rule), metric: p.metric, labels: p.labels }));
        const target = r.runner.step({ ts: tsMs, value: p.value });
        if (target) apply({ ruleId: rule.id, agentId, metric: p.metric, labels: p.labels }, target);
      }
    }
  }
  return toEpisodes(events);
}

/** A rule that watches agents, over history: its tick is replayed at every report and wherever the silence after one changes the verdict. */
function agentEpisodes(rule: AlertRule, condition: AgentCondition<AlertRule>, agentId: string, input: BacktestInput, apply: (k: AlertKey, t: Target) => void) {
  const key: AlertKey = { ruleId: rule.id, agentId, metric: condition.alertMetric, labels: {} };
  const silence = (lastSeen: number, until: number) => {
    const at = condition.changesAt(rule, lastSeen);
    if (at <= until) apply(key, condition.tick(rule, lastSeen, at));
  };
  let last: number | null = null;
  for (const { tsMs } of input.readHistory(agentId, input.fromMs, input.toMs)) {
    if (last !== null) silence(last, tsMs);
    apply(key, condition.tick(rule, tsMs, tsMs));
    last = tsMs;
  }
  if (last !== null) silence(last, input.toMs);
}

function toEpisodes(events: AlertEvent[]): Episode[] {
  const open = new Map<string, Episode>();
  const episodes: Episode[] = [];
  for (const e of events) {
    const k = `${e.agent_id}\u0000${seriesKey(e.metric, e.labels)}`;
    if (e.status === "firing") {
      const current = open.get(k);
      if (current) { current.severity = e.severity; continue; } // a worse tier within the episode
      const ep: Episode = {
        agent_id: e.agent_id, metric: e.metric, labels: e.labels, severity: e.severity, fired_at: e.fired_at,
        resolved_at: null, value: e.value, message: e.message, predicted_at: e.predicted_at,
      };
      open.set(k, ep);
      episodes.push(ep);
    } else {
      const ep = open.get(k);
      if (ep) ep.resolved_at = e.resolved_at;
      open.delete(k);
    }
  }
  return episodes.sort((a, b) => a.fired_at - b.fired_at);
}
