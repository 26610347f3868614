/** GET /v1/alerts/silences and /v1/notifications/silences as the Alerts page uses them. */
import type { ActiveAlert } from "./fleet-model.ts";

export interface AlertSilence { id: string; rule_id?: string; agent_id?: string; ends_at: string; created_at: string; created_by: string; note: string }
export interface SilenceWindow {
  id: string; start_time: string; end_time: string; recurrence: "daily" | "weekdays" | "weekly" | "once";
  days?: string[]; date?: string; timezone: string; note?: string; read_only: boolean;
}

/** The silence covering an alert (the one ending last), as the notifier matches it. */
export function silenceFor(silences: readonly AlertSilence[], alert: Pick<ActiveAlert, "rule_id" | "agent_id">, now = Date.now()): AlertSilence | undefined {
  return silences
    .filter((s) => Date.parse(s.ends_at) > now && (s.rule_id === undefined || s.rule_id === alert.rule_id) && (s.agent_id === undefined || s.agent_id === alert.agent_id))
    .sort((a, b) => Date.parse(b.ends_at) - Date.parse(a.ends_at))[0];
}

/** "Silence for how long" answered by a person: hours, or 30m / 2h / 1d. Null when it is not one. */
export function parseDurationSecs(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([mhd]?)\s*$/i.exec(text);
  if (!m) return null;
  const unit = { m: 60, h: 3600, d: 86_400, "": 3600 }[m[2]!.toLowerCase() as "m" | "h" | "d" | ""];
  const secs = Math.round(Number(m[1]) * unit);
  return secs >= 60 ? secs : null;
}
