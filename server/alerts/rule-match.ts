import { anyGlob, globToRegExp } from "../../common/glob.ts";
import type { Labels } from "../../common/metrics.ts";
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
 * metric whose labels satisfy every matcher. agent_offline rules watch agents, not series.
 */
export function compileRule(rule: AlertRule): CompiledRule {
  const agent = anyGlob([rule.agent_pattern]);
  const labelTests = Object.entries(rule.labels).map(([k, pattern]) => [k, globToRegExp(pattern)] as const);
  return {
    rule,
    matchesAgent: agent,
    matchesSeries: (metric, labels) =>
      rule.enabled && rule.type !== "agent_offline" && metric === rule.metric &&
      labelTests.every(([k, re]) => labels[k] !== undefined && re.test(labels[k]!)),
  };
}

/** How much history (ms) a rule needs kept per series. */
export function historyNeededMs(rule: AlertRule): number {
  switch (rule.type) {
    case "rate_of_change": return rule.window_secs * 1000;
    case "trend_prediction": return rule.window_secs * 1000;
    case "threshold": return rule.duration_secs * 1000;
    default: return 0;
  }
}
