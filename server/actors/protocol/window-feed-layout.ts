import { randomUUID } from "node:crypto";
import type { WindowFeedSettings } from "./messages.ts";
import type { PackedWindowBatch } from "./window-batch.ts";

/*
 * The window feed's layout, shared by the ingest threads that post and the agent-window
 * shards that receive (window/window-feed.ts): channel names and the shared counters.
 */

/* Counters per shard, at these offsets. Ingest adds to DEPTH and DROPPED; the shard takes
 * from DEPTH and adds to HANDLED. DROPPED_STORED follows DROPPED once the dropped reports'
 * writes have settled: only then can the shard read them back. The totals wrap at 2^32:
 * readers take differences. */
export const DEPTH = 0, DROPPED = 1, HANDLED = 2, DROPPED_STORED = 3;
export const COUNTERS_PER_SHARD = 4;

/** A WindowFeedMessage as it crosses the channel (window-batch.ts). */
export interface FeedWire { batch: PackedWindowBatch; droppedBefore: number }

/** `senders`: how many ingest threads post at once; the ring has twice as many slots. */
export function windowFeedSettings(shards: number, maxDepth: number, senders = 2): WindowFeedSettings {
  return {
    channel: `tsmon-window-${randomUUID()}`, shards, maxDepth, slots: 2 * senders,
    // The shards' counters, then the next slot to take.
    counters: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (COUNTERS_PER_SHARD * shards + 1)),
  };
}

export function channelName(settings: WindowFeedSettings, shard: number, slot: number): string {
  return `${settings.channel}-${shard}-${slot}`;
}
