import { SEVERITY_RANK, type AlertEvent } from "../../alerts/types.ts";
import type { Delivery } from "../../storage/notify-store.ts";
import type { Outcome, Stage } from "../pipeline.ts";
import type { Channel, Notification, SendResult } from "../types.ts";
import { afterAttempt } from "./retry.ts";

/**
 * Sends one message's deliveries through their channel and stores what that came to: done,
 * due again later (retry with backoff), or given up (not retryable, or too old).
 */
export const deliverStage: Stage = async (ctx, flow) => {
  const due = flow.deliveries;
  if (due.length === 0) return flow;
  const { store } = ctx;
  const channelId = due[0]!.channel_id;
  const channel = ctx.channels.get(channelId);
  if (!channel) {
    await store.finish(due, null);
    return done(flow, { status: "failed", deliveries: due, attempt: 0, httpStatus: null, detail: `channel '${channelId}' no longer exists`, reason: "config" });
  }
  const attempt = Math.max(...due.map((d) => d.attempts)) + 1;
  const result = await sendSafely(channel.sender, toNotification(due));
  const createdAt = Math.min(...due.map((d) => d.created_at));
  const decision = afterAttempt(ctx.policy, attempt, result, createdAt, ctx.now());
  const outcome = { deliveries: due, attempt, httpStatus: result.status ?? null, reason: result.reason };
  switch (decision.action) {
    case "sent":
      await store.finish(due, ctx.now());
      return done(flow, { ...outcome, status: "sent", detail: result.detail, reason: undefined });
    case "retry":
      await store.update(due.map((d) => ({ ...d, status: "pending", attempts: attempt, next_at: decision.at, last_error: result.detail })));
      return done(flow, { ...outcome, status: "retry", detail: result.detail });
    default:
      await store.finish(due, null);
      return done(flow, { ...outcome, status: decision.action, detail: decision.reason });
  }
};

const done = (flow: Parameters<Stage>[1], outcome: Outcome) => ({ ...flow, deliveries: [], outcomes: [...flow.outcomes, outcome] });

/** A channel that throws is a bug in it, not a verdict on the message: tried again, counted as internal. */
async function sendSafely(sender: Channel, n: Notification): Promise<SendResult> {
  try {
    return await sender.send(n);
  } catch (err) {
    return { ok: false, retryable: true, reason: "internal", detail: `channel threw: ${(err as Error).message}` };
  }
}

/** One message: its events sorted by agent, the worst severity among them. */
export function toNotification(ds: readonly Delivery[]): Notification {
  const events: AlertEvent[] = ds.map((d) => d.event).sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  const worst = events.reduce((w, e) => (SEVERITY_RANK[e.severity] > SEVERITY_RANK[w] ? e.severity : w), events[0]!.severity);
  return { id: ds[0]!.group_id, status: events[0]!.status, rule_name: events[0]!.rule_name, severity: worst, events };
}
