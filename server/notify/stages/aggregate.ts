import type { Delivery, GroupState } from "../../storage/notify-store.ts";
import type { Stage } from "../pipeline.ts";

export interface GroupingOptions {
  /** How long a group's first message waits for company (Alertmanager's group_wait); 0 sends it at once. */
  waitMs: number;
  /** After the first message, later events of the group gather this long into one follow-up (group_interval). */
  windowMs: number;
}

export interface Placement { group: GroupState; message_id: string; due_at: number }

/** Deliveries of the same channel, rule and status share a group. */
export const groupKey = (d: Delivery): string => `${d.channel_id}|${d.event.rule_id}|${d.event.status}`;

/**
 * Which message an event joins and when that message is due. A quiet group's first event
 * opens it and goes out after `waitMs` (at once by default), so the first page is never held
 * for the window; events during the window after it gather into one follow-up at the
 * window's end. A window that had a follow-up opens another behind it, as Alertmanager's
 * group_interval: a flapping rule makes at most one message per window. A window that
 * passes with no follow-up closes the group; the next event starts afresh.
 */
export function place(group: GroupState | undefined, key: string, eventId: string, now: number, opts: GroupingOptions): Placement {
  if (group && now < group.first_due_at) return { group, message_id: group.first_id, due_at: group.first_due_at };
  if (group && now < group.window_end) {
    const followup_id = group.followup_id ?? `${key}|${group.window_end}`;
    return { group: { ...group, followup_id }, message_id: followup_id, due_at: group.window_end };
  }
  if (group && group.followup_id !== null && now < group.window_end + opts.windowMs) {
    const window_end = group.window_end + opts.windowMs;
    const followup_id = `${key}|${window_end}`;
    return { group: { ...group, window_end, followup_id }, message_id: followup_id, due_at: window_end };
  }
  // The first event's id keeps first messages apart even with no window (each event its own message).
  const first_id = `${key}|${eventId}`;
  const first_due_at = now + opts.waitMs;
  return { group: { key, first_id, first_due_at, window_end: first_due_at + opts.windowMs, followup_id: null }, message_id: first_id, due_at: first_due_at };
}

/** Places new deliveries in order; returns them with their message and due time, and the groups as they now stand. */
export function placeAll(
  deliveries: readonly Delivery[], storedGroup: (key: string) => GroupState | undefined, now: number, opts: GroupingOptions,
): { deliveries: Delivery[]; groups: GroupState[] } {
  const groups = new Map<string, GroupState>();
  /** Groups opened by this call: with a window, events that arrive together go out together, first message included. */
  const opened = new Set<string>();
  const placed = deliveries.map((d) => {
    const key = groupKey(d);
    const group = groups.get(key) ?? storedGroup(key);
    const p = opts.windowMs > 0 && opened.has(key) && group
      ? { group, message_id: group.first_id, due_at: group.first_due_at }
      : place(group, key, d.event.id, now, opts);
    if (p.message_id === p.group.first_id && p.group !== group) opened.add(key);
    groups.set(key, p.group);
    return { ...d, group_id: p.message_id, next_at: p.due_at, created_at: now };
  });
  return { deliveries: placed, groups: [...groups.values()] };
}

/**
 * Places the pass's new deliveries in their groups and stores them with the groups, taking
 * their events out of the outbox in the same transaction (a crash loses nothing; an event
 * is routed once). Passes on every delivery due now: first messages, follow-ups whose
 * window ended, retries.
 */
export const aggregateStage: Stage = async (ctx, flow) => {
  const now = ctx.now();
  if (flow.events.length) {
    const { deliveries, groups } = placeAll(flow.deliveries, (key) => ctx.store.group(key), now, ctx.grouping);
    await ctx.store.applyRouting({ consumed: flow.events.map((e) => e.key), deliveries, groups });
  }
  // A fresh snapshot: what this pass just stored, and what earlier passes finished, must show.
  ctx.store.env.resetReadTxn();
  return { ...flow, events: [], deliveries: ctx.store.dueDeliveries(now) };
};
