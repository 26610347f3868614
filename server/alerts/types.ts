import type { Labels } from "../../common/metrics.ts";
import type { AlertRuleConfig } from "../config/schema.ts";

export type Severity = "info" | "warning" | "critical";
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** A rule as evaluated: the config/API fields plus where it came from. */
export type AlertRule = AlertRuleConfig & { id: string; source: "config" | "api" };

/** One sample of one series, as the conditions see it. */
export interface Sample { ts: number; value: number }

/**
 * What a rule's condition says about one series after a sample: where the alert should
 * be. `pending` only for threshold rules with a duration still running.
 */
export interface Target {
  state: "inactive" | "pending" | "firing";
  severity: Severity;
  /** Data time of the sample that decided it. */
  ts: number;
  value: number;
  threshold: number;
  /** When the condition started holding (threshold rules). */
  since?: number;
  /** trend_prediction: when the fitted line reaches the threshold. */
  predictedAt?: number;
  message: string;
}

/** Identity of one alert: a rule applied to one series of one agent. */
export interface AlertKey {
  ruleId: string;
  agentId: string;
  metric: string;
  labels: Labels;
}

/** A target for one alert key, sent from an agent-window shard to the rule-evaluator. */
export interface Observation extends AlertKey {
  target: Target;
}

/** A firing or resolved event; stored in history and sent to the notifier and live feed. */
export interface AlertEvent {
  id: string;
  /** The id of the firing event that opened this episode (its own id for that event). */
  episode_id: string;
  status: "firing" | "resolved";
  rule_id: string;
  rule_name: string;
  agent_id: string;
  metric: string;
  labels: Labels;
  value: number;
  threshold: number;
  severity: Severity;
  message: string;
  fired_at: number;
  resolved_at: number | null;
  predicted_at: number | null;
}
