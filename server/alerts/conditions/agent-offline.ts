import { z } from "zod";
import type { RuleOf } from "../rule-fields.ts";
import type { Target } from "../types.ts";
import type { AgentCondition } from "./condition.ts";

const fields = {
  metric: z.string().default("*"),
  offline_secs: z.number().int().positive(),
};
export type AgentOfflineRule = RuleOf<"agent_offline", typeof fields>;

/** Evaluated on a tick: an agent not heard from for `offline_secs` is offline. */
export function evalAgentOffline(rule: AgentOfflineRule, lastSeenMs: number, nowMs: number): Target {
  const silentSecs = Math.round((nowMs - lastSeenMs) / 1000);
  const offline = nowMs - lastSeenMs >= rule.offline_secs * 1000;
  return {
    state: offline ? "firing" : "inactive", severity: rule.severity, ts: nowMs, value: silentSecs, threshold: rule.offline_secs,
    message: offline ? `no report for ${silentSecs}s (offline after ${rule.offline_secs}s)` : "reporting again",
  };
}

export const agentOffline = {
  watches: "agent",
  fields,
  alertMetric: "agent.offline",
  tick: evalAgentOffline,
  changesAt: (rule, lastSeenMs) => lastSeenMs + rule.offline_secs * 1000,
} as const satisfies AgentCondition<AgentOfflineRule>;
