import type { WindowFeedMessage, WindowFeedSettings } from "../protocol/messages.ts";
import { countDropped, droppedStored, releaseHeld } from "./window-feed.ts";

/** What the inbox needs from the shard around it. */
export interface InboxDeps {
  feed: WindowFeedSettings;
  shard: number;
  /** True once the shard has its rules and a port to every evaluator shard. */
  ready(): boolean;
  /** Applies one batch of reports (may throw: the inbox logs and goes on). */
  apply(message: WindowFeedMessage): void;
  log(level: 40 | 50, msg: string, fields: { err?: unknown; [field: string]: unknown }): void;
}

/** How long a batch waits for dropped reports' writes before it is applied regardless. */
const STORED_WAIT_MS = 1_000;

/**
 * A window shard's intake from the feed (window-feed.ts), without the thread. Batches are
 * applied in the order they came, and wait:
 * - while the shard is not ready (no rules yet, or no port to some evaluator shard, after
 *   either side restarted): applied earlier, their observations would be lost;
 * - while reports dropped before the batch was posted (its `droppedBefore`) are still being
 *   written: the window reads them back from storage when their agent's next report comes
 *   (AgentWindow), and must find them there. That is a commit's wait, and only after drops.
 * Past the feed's `maxDepth` waiting, batches are dropped and counted.
 */
export class WindowInbox {
  private readonly waiting: WindowFeedMessage[] = [];
  private droppedWaiting = 0;
  private retry: NodeJS.Timeout | undefined;
  /** Added to the stored-drops total: writes that never settled (an ingest thread died). */
  private lostDrops = 0;
  /** The batch waiting on dropped reports' writes, since when. */
  private storedWait?: { message: WindowFeedMessage; since: number };

  constructor(private readonly deps: InboxDeps) {}

  /** Applies a batch, or holds it (true: it still counts as waiting). */
  take(message: WindowFeedMessage): boolean {
    if (this.waiting.length || !this.canApply(message)) return this.hold(message);
    this.applySafely(message);
    return false;
  }

  /** Applies what waited and may go now (the shard became ready, or writes settled). */
  release(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    let n = 0;
    try {
      for (; n < this.waiting.length && this.canApply(this.waiting[n]!); n++) this.applySafely(this.waiting[n]!);
    } finally {
      this.waiting.splice(0, n);
      releaseHeld(this.deps.feed, this.deps.shard, n);
    }
    this.scheduleRetry();
  }

  private canApply(message: WindowFeedMessage): boolean {
    if (!this.deps.ready()) {
      this.storedWait = undefined; // the wait for writes starts once the shard is ready
      return false;
    }
    const behind = (message.droppedBefore - droppedStored(this.deps.feed, this.deps.shard) - this.lostDrops) | 0;
    if (behind <= 0) {
      if (this.storedWait?.message === message) this.storedWait = undefined;
      return true;
    }
    const now = Date.now();
    if (this.storedWait?.message !== message) {
      this.storedWait = { message, since: now };
      return false;
    }
    // A write that never settles must not stop the window: go on, and count it as lost. (A
    // write that was only slow settles later and leaves the count that much ahead: as many
    // later drops are then not waited for, a replay may miss them. Bounded, and rare.)
    if (now - this.storedWait.since < STORED_WAIT_MS) return false;
    this.lostDrops += behind;
    this.storedWait = undefined;
    this.deps.log(40, "dropped reports' writes did not settle; the window goes on without reading them back", { reports: behind });
    return true;
  }

  /** Only a shard that is ready waits on writes: polled each millisecond (only after drops,
   *  and they settle within a commit). */
  private scheduleRetry(): void {
    if (this.retry || !this.waiting.length || !this.deps.ready()) return;
    this.retry = setTimeout(() => this.release(), 1);
    this.retry.unref();
  }

  private hold(message: WindowFeedMessage): boolean {
    if (this.waiting.length < this.deps.feed.maxDepth) {
      this.waiting.push(message);
      this.scheduleRetry();
      return true;
    }
    countDropped(this.deps.feed, this.deps.shard, message.reports.length);
    if (this.droppedWaiting++ % 1000 === 0) {
      this.deps.log(40, "agent window's queue is full (not wired to its rule evaluators yet, or waiting for dropped reports' writes): reports dropped (each agent's next report reads storage again)", { dropped: this.droppedWaiting });
    }
    return false;
  }

  private applySafely(message: WindowFeedMessage): void {
    try {
      this.deps.apply(message);
    } catch (err) {
      // One bad report must not end the shard (and drop every agent's window with it).
      this.deps.log(50, "applying a batch of reports to the agent window failed", { err });
    }
  }
}
