import type { AlertRuleConfig } from "../../config/schema.ts";
import type { RuleIssue } from "../rule-fields.ts";
import { agentOffline } from "./agent-offline.ts";
import { certExpiration } from "./cert-expiration.ts";
import type { Condition } from "./condition.ts";
import { rateOfChange } from "./rate-of-change.ts";
import { reachability } from "./reachability.ts";
import { threshold } from "./threshold.ts";
import { trendPrediction } from "./trend-prediction.ts";

/**
 * Every alert rule type, by the `type` that selects it. A new type is one file beside
 * these (a Condition) and one line here: the config schema, the API's schemas and
 * documentation, the agent-window shards, the evaluator and the backtest all follow.
 */
export const CONDITIONS = {
  threshold,
  rate_of_change: rateOfChange,
  trend_prediction: trendPrediction,
  cert_expiration: certExpiration,
  agent_offline: agentOffline,
  reachability,
} as const;

export type RuleType = keyof typeof CONDITIONS;
export const RULE_TYPES = Object.keys(CONDITIONS) as [RuleType, ...RuleType[]];

/**
 * The condition of a rule's type. TypeScript cannot tie `CONDITIONS[rule.type]` to that
 * very rule (it sees a union of conditions and a union of rules), hence the one cast.
 */
export function conditionOf<R extends AlertRuleConfig>(rule: R): Condition<R> {
  const condition = CONDITIONS[rule.type] as unknown as Condition<R> | undefined;
  // Rules are validated on the way in; only a stored rule of a type since removed gets here.
  if (!condition) throw new Error(`no condition for alert rule type '${String(rule.type)}'`);
  return condition;
}

/** What the rule's type finds wrong between its fields (a schema checks each field alone). */
export function ruleIssues(rule: AlertRuleConfig): RuleIssue[] {
  return conditionOf(rule).check?.(rule) ?? [];
}
