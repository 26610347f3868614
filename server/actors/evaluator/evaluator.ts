import { anyGlob } from "../../../common/glob.ts";
import { conditionOf } from "../../alerts/conditions/registry.ts";
import { alertKeyString } from "../../alerts/alert-state.ts";
import { transitionAll, type AlertItem } from "../../alerts/lifecycle.ts";
import type { AlertEvent, AlertRule, Observation } from "../../alerts/types.ts";
import type { AlertStore } from "../../storage/alert-store.ts";
import type { AgentRecord } from "../../storage/control-store.ts";
import { assertNever } from "../../../common/assert-never.ts";
import { type EvaluatorReplies, type EvaluatorRequest } from "../protocol/messages.ts";

export interface EvaluatorDeps {
  store: AlertStore;
  agents(): AgentRecord[];
  /** Which agents this shard owns (ticks evaluate only those). */
  owns(agentId: string): boolean;
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

  private observe(observations: Observation[]): Promise<AlertEvent[]> {
    const items: AlertItem[] = [];
    for (const o of observations) {
      const rule = this.rules.get(o.ruleId);
      // An observation made under a rule since deleted or disabled is dropped.
      if (rule?.enabled) items.push({ rule, key: o, target: o.target });
    }
    return this.decide(items);
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
