import type { AlertRule, Target } from "../types.ts";

type OfflineRule = Extract<AlertRule, { type: "agent_offline" }>;

/** Evaluated on a tick: an agent not heard from for `offline_secs` is offline. */
export function evalAgentOffline(rule: OfflineRule, lastSeenMs: number, nowMs: number): Target {
  const silentSecs = Math.round((nowMs - lastSeenMs) / 1000);
  const offline = nowMs - lastSeenMs >= rule.offline_secs * 1000;
  return {
    state: offline ? "firing" : "inactive", severity: rule.severity, ts: nowMs, value: silentSecs, threshold: rule.offline_secs,
    message: offline ? `no report for ${silentSecs}s (offline after ${rule.offline_secs}s)` : "reporting again",
  };
}
