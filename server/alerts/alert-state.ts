import { seriesKey } from "../../common/metrics.ts";
import type { AlertEvent, AlertKey, Severity } from "./types.ts";

/** The stored state of one alert (rule × agent × series); shared by every process. */
export interface AlertState {
  rule_id: string;
  agent_id: string;
  metric: string;
  labels: AlertKey["labels"];
  state: "inactive" | "pending" | "firing";
  severity: Severity;
  /** When the current pending/firing episode's condition began (data time). */
  since: number | null;
  /** The current episode's firing time, and whether silence_secs swallowed its events. */
  fired_at: number | null;
  /** Id of the current episode's first firing event. */
  episode_id: string | null;
  silenced: boolean;
  /** The last firing event sent for this key: silence_secs counts from here. */
  last_fired_at: number | null;
  value: number;
  threshold: number;
  message: string;
  predicted_at: number | null;
  /** Data time of the newest target applied; older targets are ignored. */
  updated_at: number;
}

/** What a decision on some alerts comes to: the states to write (by alertKeyString) and the events to record. */
export interface AlertUpdate {
  states: [key: string, state: AlertState][];
  events: AlertEvent[];
}

export function alertKeyString(k: AlertKey): string {
  return `${k.ruleId}\u0000${k.agentId}\u0000${seriesKey(k.metric, k.labels)}`;
}
