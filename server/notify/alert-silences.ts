import type { AlertEvent } from "../alerts/types.ts";

/**
 * A silence of some alerts (by rule, by agent, or both) until a time: their notifications
 * are not sent while it lasts, firing or resolved (as an Alertmanager silence). Unlike a
 * silence window, which holds every message until it ends, what a silence swallows is gone:
 * whoever silenced an alert knows of it.
 */
export interface AlertSilence {
  id: string;
  rule_id?: string;
  agent_id?: string;
  ends_at: number;
  created_at: number;
  created_by: string;
  note: string;
}

/** The silence that covers `event` at `nowMs`, if any (the longest-lasting one). */
export function silenceOf(silences: readonly AlertSilence[], event: Pick<AlertEvent, "rule_id" | "agent_id">, nowMs: number): AlertSilence | undefined {
  let found: AlertSilence | undefined;
  for (const s of silences) {
    if (s.ends_at <= nowMs) continue;
    if (s.rule_id !== undefined && s.rule_id !== event.rule_id) continue;
    if (s.agent_id !== undefined && s.agent_id !== event.agent_id) continue;
    if (!found || s.ends_at > found.ends_at) found = s;
  }
  return found;
}
