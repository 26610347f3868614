import { anyGlob, globToRegExp } from "../../common/glob.ts";
import type { Labels } from "../../common/metrics.ts";
import { assertNever } from "../../common/assert-never.ts";
import { conditionOf } from "./conditions/registry.ts";
import type { AlertRule } from "./types.ts";

/** A rule with its globs compiled once. */
export interface CompiledRule {
  rule: AlertRule;
  matchesAgent(agentId: string): boolean;
  /** Does the rule apply to this series of a matching agent? */
  matchesSeries(metric: string, labels: Labels): boolean;
}

/**
 * `agent_pattern` and label matchers are globs; a rule applies to each series of its
 * metric whose labels satisfy every matcher. Rules whose condition watches agents
 * (agent_offline) match no series.
 */
export function compileRule(rule: AlertRule): CompiledRule {
  const agent = anyGlob([rule.agent_pattern]);
  const condition = conditionOf(rule);
  const watchesSeries = condition.watches === "series";
  const labelTests = Object.entries(rule.labels).map(([k, pattern]) => [k, globToRegExp(pattern)] as const);
  // Values the type selects itself (a check's name) match exactly, not as globs.
  const exact = Object.entries((watchesSeries && condition.matchLabels?.(rule)) || {});
  return {
    rule,
    matchesAgent: agent,
    matchesSeries: (metric, labels) =>
      rule.enabled && watchesSeries && metric === rule.metric &&
      labelTests.every(([k, re]) => labels[k] !== undefined && re.test(labels[k]!)) && exact.every(([k, v]) => labels[k] === v),
  };
}

/** How much stored history (ms) rebuilds a rule's state per series. */
export function historyNeededMs(rule: AlertRule): number {
  const condition = conditionOf(rule);
  switch (condition.watches) {
    case "series": return condition.historyMs(rule);
    case "agent": return 0;
    default: return assertNever(condition);
  }
}
