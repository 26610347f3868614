import type { AlertEvent } from "../../server/alerts/types.ts";

/** A firing event of rule high-cpu on web-1, with any field overridden. */
export function event(fields: Partial<AlertEvent> = {}): AlertEvent {
  return {
    id: "e1", episode_id: "e1", status: "firing", rule_id: "r1", rule_name: "high-cpu", agent_id: "web-1", metric: "cpu.usage",
    labels: {}, value: 95.5, threshold: 90, severity: "warning", message: "cpu.usage is 95.50 (> 90)",
    fired_at: Date.parse("2026-11-23T10:00:00Z"), resolved_at: null, predicted_at: null, ...fields,
  };
}
