import type { Stage } from "../pipeline.ts";

/** Writes each outcome to the delivery log and counts it (channel, result, and for a failed attempt why). */
export const logStage: Stage = async (ctx, flow) => {
  const now = ctx.now();
  for (const o of flow.outcomes) {
    const channelId = o.deliveries[0]!.channel_id;
    ctx.countOutcome(channelId, o.status, o.reason ?? "");
    await ctx.store.appendLog({
      ts: now, channel_id: channelId, notification_id: o.deliveries[0]!.group_id, status: o.status, attempt: o.attempt,
      http_status: o.httpStatus, detail: o.detail.slice(0, 500),
      events: o.deliveries.map((d) => ({ id: d.event.id, status: d.event.status, rule_name: d.event.rule_name, agent_id: d.event.agent_id })),
    });
  }
  return { ...flow, outcomes: [] };
};
