import { SEVERITY_RANK, type AlertEvent, type Severity } from "../../alerts/types.ts";

export interface RoutableChannel { id: string; min_severity: Severity; send_resolved: boolean }

/** The channels an event goes to: severity at least the channel's minimum; resolved only where wanted. */
export function route(event: AlertEvent, channels: readonly RoutableChannel[]): string[] {
  return channels
    .filter((c) => SEVERITY_RANK[event.severity] >= SEVERITY_RANK[c.min_severity])
    .filter((c) => event.status === "firing" || c.send_resolved)
    .map((c) => c.id);
}
