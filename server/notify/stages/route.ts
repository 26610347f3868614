import { SEVERITY_RANK, type AlertEvent, type Severity } from "../../alerts/types.ts";
import type { Delivery } from "../../storage/notify-store.ts";
import type { Stage } from "../pipeline.ts";

export interface RoutableChannel { id: string; min_severity: Severity; send_resolved: boolean }

/** The channels an event goes to: severity at least the channel's minimum; resolved only where wanted. */
export function route(event: AlertEvent, channels: readonly RoutableChannel[]): string[] {
  return channels
    .filter((c) => SEVERITY_RANK[event.severity] >= SEVERITY_RANK[c.min_severity])
    .filter((c) => event.status === "firing" || c.send_resolved)
    .map((c) => c.id);
}

/** New events → one delivery per channel that wants them, not yet in a group (the aggregate stage places them). */
export const routeStage: Stage = async (ctx, flow) => {
  const routable = [...ctx.channels.values()].map((c) => c.table);
  const now = ctx.now();
  const deliveries = flow.events.flatMap(({ event }) => route(event, routable).map((channelId): Delivery => ({
    id: `${event.id}|${channelId}`, channel_id: channelId, event, group_id: "", status: "pending",
    attempts: 0, next_at: now, created_at: now, last_error: null,
  })));
  return { ...flow, deliveries };
};
