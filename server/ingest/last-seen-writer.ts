/** How long a last_seen may wait in memory before it is written (and so lag in LMDB). */
export const LAST_SEEN_FLUSH_MS = 200;

/**
 * Moves agents' last_seen forward in the registry for many reports in one transaction, a
 * moment after they were acknowledged. A registry commit per report was the largest cost of
 * ingest after the points themselves (bench:ingest, A/B: +11–22 % points per CPU-second
 * without it); last_seen only feeds the agent list, the offline rule and the window's
 * catch-up, none of which needs it durable within a fraction of a second. The points are
 * durable before the ack regardless; a crash loses at most the last `flushMs` of last_seen
 * moves, and the agent's next report restores them. Readers in this thread see what is
 * still in memory (`pending`); other threads and instances see it once written.
 */
export class LastSeenWriter {
  private waiting = new Map<string, number>();
  /** The batch being written: still to be seen by readers until its commit is done. */
  private writing: ReadonlyMap<string, number> = new Map();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (seen: ReadonlyMap<string, number>) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly flushMs = LAST_SEEN_FLUSH_MS,
  ) {}

  /** Notes that `agentId` reported at `seenMs` (kept: the latest per agent). */
  note(agentId: string, seenMs: number): void {
    const known = this.waiting.get(agentId);
    if (known === undefined || seenMs > known) this.waiting.set(agentId, seenMs);
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** The latest instant noted for `agentId` and not yet committed, if any. */
  pending(agentId: string): number | undefined {
    const waiting = this.waiting.get(agentId), writing = this.writing.get(agentId);
    return waiting === undefined ? writing : writing === undefined ? waiting : Math.max(waiting, writing);
  }

  /** Writes what is waiting (after any write in progress); a failed write keeps it for the next try. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.size === 0) return this.flushing;
    const batch = this.waiting;
    this.waiting = new Map();
    this.flushing = this.flushing.then(async () => {
      this.writing = batch;
      try {
        await this.write(batch);
      } catch (err) {
        this.onError(err);
        for (const [agentId, seenMs] of batch) this.note(agentId, seenMs);
      } finally {
        this.writing = new Map();
      }
    });
    return this.flushing;
  }

  /** Writes what is waiting and stops the timer (before the store closes). */
  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
