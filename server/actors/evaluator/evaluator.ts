import { anyGlob } from "../../../common/glob.ts";
import { conditionOf } from "../../alerts/conditions/registry.ts";
import { alertKeyString } from "../../alerts/alert-state.ts";
import { transitionAll, type AlertItem } from "../../alerts/lifecycle.ts";
import type { AlertEvent, AlertKey, AlertRule, Observation } from "../../alerts/types.ts";
import { FLEET_AGENT, type AcrossAgents, type Vote, type VoterFacts } from "../../alerts/conditions/condition.ts";
import type { AlertStore } from "../../storage/alert-store.ts";
import type { AgentRecord } from "../../storage/control-store.ts";
import { assertNever } from "../../../common/assert-never.ts";
import { type EvaluatorReplies, type EvaluatorRequest } from "../protocol/messages.ts";

export interface EvaluatorDeps {
  store: AlertStore;
  agents(): AgentRecord[];
  /** Which agents this shard owns (ticks evaluate only those). */
  owns(agentId: string): boolean;
  /** What the stored check events tell of an agent failing a rule decided across agents (its reason, its last traceroute hop). */
  voterFacts?(check: string, agentId: string): VoterFacts;
}

/** The across-agents part of a rule's condition, if its type is decided across agents. */
function acrossAgentsOf(rule: AlertRule): AcrossAgents<AlertRule> | undefined {
  const condition = conditionOf(rule);
  return condition.watches === "series" ? condition.acrossAgents : undefined;
}

/**
 * The rule-evaluator actor's core: decides the alert lifecycle transitions and events the
 * window's observations cause, and evaluates the rules that watch agents (agent_offline)
 * on a tick. The store only applies its decisions, inside the transaction that read the
 * states they start from.
 */
export class RuleEvaluator {
  private rules = new Map<string, AlertRule>();

  constructor(private readonly deps: EvaluatorDeps) {}

  async handle<T extends EvaluatorRequest>(msg: T): Promise<EvaluatorReplies[T["type"]]>;
  async handle(msg: EvaluatorRequest): Promise<EvaluatorReplies[EvaluatorRequest["type"]]> {
    switch (msg.type) {
      case "observe":
        return { type: "events", events: await this.observe(msg.observations) };
      case "rules":
        this.rules = new Map(msg.rules.map((r) => [r.id, r]));
        return { type: "rules-set", rules: this.rules.size };
      case "tick":
        return { type: "events", events: await this.tick(msg.nowMs) };
      default:
        return assertNever(msg);
    }
  }

  private async observe(observations: Observation[]): Promise<AlertEvent[]> {
    const items: AlertItem[] = [];
    const votes = new Map<string, [agentId: string, vote: Vote][]>();
    for (const o of observations) {
      const rule = this.rules.get(o.ruleId);
      // An observation made under a rule since deleted or disabled is dropped.
      if (!rule?.enabled) continue;
      if (acrossAgentsOf(rule)) {
        const list = votes.get(rule.id);
        const vote: [string, Vote] = [o.agentId, { target: o.target, labels: o.labels }];
        if (list) list.push(vote); else votes.set(rule.id, [vote]);
      } else items.push({ rule, key: o, target: o.target });
    }
    const events = await this.decide(items);
    for (const [ruleId, list] of votes) events.push(...await this.decideAcross(this.rules.get(ruleId)!, list));
    return events;
  }

  /**
   * A rule decided across agents (reachability) has one alert, fed by every agent's vote,
   * while this shard owns only some agents. Its home is the control LMDB, where alert state
   * already lives: each shard writes its agents' votes and decides the one alert from all
   * stored votes in the same write transaction (AlertStore.updateVotes). LMDB serialises
   * those transactions across shards and PM2 processes, so whichever vote comes last sees
   * every earlier one, and the alert fires (or resolves) exactly once: no coordinator
   * thread, no extra messages, and nothing lost when a shard restarts.
   */
  private decideAcross(rule: AlertRule, votes: [string, Vote][]): Promise<AlertEvent[]> {
    const across = acrossAgentsOf(rule)!;
    const key: AlertKey = { ruleId: rule.id, agentId: FLEET_AGENT, ...across.alertSeries(rule) };
    const keyString = alertKeyString(key);
    return this.deps.store.updateVotes(rule.id, votes, [keyString], (all, stored) => {
      const check = across.checkOf(rule);
      const target = across.decide(rule, all, (agentId) => this.deps.voterFacts?.(check, agentId) ?? {});
      return transitionAll([{ rule, key, target }], stored);
    });
  }

  /** Rules whose condition watches agents, decided from each owned agent's last report. */
  private tick(nowMs: number): Promise<AlertEvent[]> {
    const items: AlertItem[] = [];
    let owned: ReturnType<EvaluatorDeps["agents"]> | undefined; // read once a tick, and only when a rule needs it
    for (const rule of this.rules.values()) {
      const condition = conditionOf(rule);
      if (!rule.enabled || condition.watches !== "agent") continue;
      const matches = anyGlob([rule.agent_pattern]);
      owned ??= this.deps.agents().filter((a) => this.deps.owns(a.agent_id));
      for (const agent of owned) {
        if (!matches(agent.agent_id)) continue;
        const target = condition.tick(rule, agent.last_seen, nowMs);
        items.push({ rule, key: { ruleId: rule.id, agentId: agent.agent_id, metric: condition.alertMetric, labels: {} }, target });
      }
    }
    return this.decide(items);
  }

  /**
   * The transitions run inside the store's write transaction, on the states it has just
   * read: LMDB serialises those across threads and processes, so of two evaluators given
   * the same observation only the first emits its event (see AlertStore.update).
   */
  private decide(items: AlertItem[]): Promise<AlertEvent[]> {
    if (items.length === 0) return Promise.resolve([]);
    const keys = [...new Set(items.map((i) => alertKeyString(i.key)))];
    return this.deps.store.update(keys, (stored) => transitionAll(items, stored));
  }
}
