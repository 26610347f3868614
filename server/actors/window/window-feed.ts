import { BroadcastChannel } from "node:worker_threads";
import type { WindowFeedMessage, WindowFeedSettings, WindowReport } from "../protocol/messages.ts";
import { shardOf } from "../runtime/shard-of.ts";
import { packWindowBatch, unpackWindowBatch } from "../protocol/window-batch.ts";
import { channelName, COUNTERS_PER_SHARD, DEPTH, DROPPED, DROPPED_STORED, HANDLED, type FeedWire } from "../protocol/window-feed-layout.ts";

/*
 * The agent-window actor's input: ingest threads post the reports they accept straight to
 * the agent's window shard, so a report's samples reach the rules without a stop on the main
 * thread. Each shard listens on named BroadcastChannels. Piscina's threads cannot be handed
 * ports one by one; a named channel also finds a shard again after either side restarted,
 * with no re-wiring. The name carries a random id: every server in the process (tests run
 * several) has channels of its own.
 *
 * Every instance of a name receives (and decodes) what the others post: two ingest threads
 * posting under one name would each decode the other's reports (≈ 36 µs a message of 16, in
 * a microbenchmark). So an ingest thread takes a slot as it starts, and posts under its own
 * name per shard; the shard listens on every slot's. A restarted thread takes the next slot,
 * round the ring: should two live threads meet on one, it costs that decoding again, no more.
 */

/**
 * The ingest side: a channel per shard, kept open (with a 5 KB message, opening a channel
 * for each post and closing it after cost 37–80 µs a post against 13–18 µs on one kept open,
 * Node 20, receiver in another thread).
 */
export class WindowFeedSender {
  private readonly channels: BroadcastChannel[];
  private readonly counters: Int32Array;
  /** Drops are counted as stored in the order they were dropped, whatever order writes settle in. */
  private stored: Promise<unknown> = Promise.resolve();

  constructor(private readonly settings: WindowFeedSettings) {
    const slot = (Atomics.add(new Int32Array(settings.counters), COUNTERS_PER_SHARD * settings.shards, 1) >>> 0) % settings.slots;
    this.channels = Array.from({ length: settings.shards }, (_, i) => new BroadcastChannel(channelName(settings, i, slot)));
    for (const c of this.channels) c.unref();
    this.counters = new Int32Array(settings.counters);
  }

  /** Posts each shard its reports as one message, unless the shard already has `maxDepth`
   *  waiting: then they are dropped and counted. A dropped report costs freshness: the
   *  shard reads storage for what it missed when it next meets the agent, once `written`
   *  (the reports' writes, which never rejects) has settled. */
  send(reports: WindowReport[], written: Promise<unknown>): void {
    const byShard = new Map<number, WindowReport[]>();
    for (const r of reports) {
      const shard = shardOf(r.agentId, this.settings.shards);
      const list = byShard.get(shard);
      if (list) list.push(r);
      else byShard.set(shard, [r]);
    }
    for (const [shard, list] of byShard) {
      const base = shard * COUNTERS_PER_SHARD;
      // Taken first, given back if over: two ingest threads cannot both take the last place.
      if (Atomics.add(this.counters, base + DEPTH, 1) >= this.settings.maxDepth) {
        Atomics.sub(this.counters, base + DEPTH, 1);
        Atomics.add(this.counters, base + DROPPED, list.length);
        const settled = written.then(() => {}, () => {});
        this.stored = Promise.all([this.stored, settled]).then(() => Atomics.add(this.counters, base + DROPPED_STORED, list.length));
        continue;
      }
      // Stamped with the drops counted so far: the shard reads storage for an agent whose
      // report comes after drops it has not yet checked for (AgentWindow).
      const wire: FeedWire = { batch: packWindowBatch(list), droppedBefore: Atomics.load(this.counters, base + DROPPED) >>> 0 };
      this.channels[shard]!.postMessage(wire);
    }
  }

  close(): void {
    for (const c of this.channels) c.close();
  }
}

/**
 * The shard side: hands each message to `handle`, keeping the shared counters. A message
 * `handle` keeps for later (it returns true) still counts as waiting until releaseHeld, so
 * held and in-flight messages together stay within `maxDepth`.
 */
export function receiveWindowFeed(settings: WindowFeedSettings, shard: number, handle: (message: WindowFeedMessage) => boolean | void): { close(): void } {
  const counters = new Int32Array(settings.counters);
  const base = shard * COUNTERS_PER_SHARD;
  // Whatever was posted to this shard's previous thread died with it: start from empty.
  // (A message posted just before this reset and taken after it leaves the count one low.)
  Atomics.store(counters, base + DEPTH, 0);
  const onmessage = (event: unknown) => {
    const { batch, droppedBefore } = (event as { data: FeedWire }).data;
    const message: WindowFeedMessage = { type: "samples-batch", reports: unpackWindowBatch(batch), droppedBefore };
    Atomics.add(counters, base + HANDLED, message.reports.length);
    if (handle(message) !== true) takeFromDepth(counters, base);
  };
  const channels = Array.from({ length: settings.slots }, (_, slot) => {
    const channel = new BroadcastChannel(channelName(settings, shard, slot));
    channel.unref();
    channel.onmessage = onmessage;
    return channel;
  });
  return { close: () => { for (const c of channels) c.close(); } };
}

/** `messages` held by the shard (see receiveWindowFeed) have been applied or dropped. */
export function releaseHeld(settings: WindowFeedSettings, shard: number, messages: number): void {
  const counters = new Int32Array(settings.counters);
  for (let i = 0; i < messages; i++) takeFromDepth(counters, shard * COUNTERS_PER_SHARD);
}

function takeFromDepth(counters: Int32Array, base: number): void {
  // Never below zero (see the reset at the start); given back rather than stored, so an
  // ingest thread's add in between is kept.
  if (Atomics.sub(counters, base + DEPTH, 1) <= 0) Atomics.add(counters, base + DEPTH, 1);
}

/** How long after a shard drops reports itself they are counted as stored: it cannot see
 *  their writes (posted while in flight), which take a commit, milliseconds. */
const SHARD_DROP_STORED_AFTER_MS = 200;

/** Reports a shard received but could not keep (window-inbox.ts). */
export function countDropped(settings: WindowFeedSettings, shard: number, reports: number): void {
  const counters = new Int32Array(settings.counters), base = shard * COUNTERS_PER_SHARD;
  Atomics.add(counters, base + DROPPED, reports);
  setTimeout(() => Atomics.add(counters, base + DROPPED_STORED, reports), SHARD_DROP_STORED_AFTER_MS).unref();
}

/** How many of the shard's dropped reports (total) have settled writes. */
export function droppedStored(settings: WindowFeedSettings, shard: number): number {
  return Atomics.load(new Int32Array(settings.counters), shard * COUNTERS_PER_SHARD + DROPPED_STORED) >>> 0;
}

/** The counters of one shard, as the main thread reads them for its metrics. */
export function windowFeedCounters(settings: WindowFeedSettings, shard: number): { depth: number; dropped: number; handled: number } {
  const counters = new Int32Array(settings.counters);
  const base = shard * COUNTERS_PER_SHARD;
  return {
    depth: Math.max(0, Atomics.load(counters, base + DEPTH)),
    dropped: Atomics.load(counters, base + DROPPED) >>> 0,
    handled: Atomics.load(counters, base + HANDLED) >>> 0,
  };
}

/** How far a wrapping 32-bit total moved since `before`. */
export function counterDelta(now: number, before: number): number {
  return (now - before) >>> 0;
}
