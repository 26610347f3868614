/** How long a last_seen may wait in memory before it is written (and so lag in LMDB). */
const LAST_SEEN_FLUSH_MS = 200;
/** The longest wait between retries of a write that keeps failing. */
const MAX_RETRY_MS = 30_000;

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
  /** Batches handed to `write` and not yet committed, oldest first: readers still see them. */
  private readonly queued: ReadonlyMap<string, number>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Writes failed in a row: the retry backs off (a full map or disk fails every time). */
  private failures = 0;

  constructor(
    private readonly write: (seen: ReadonlyMap<string, number>) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly flushMs = LAST_SEEN_FLUSH_MS,
  ) {}

  /** Notes that `agentId` reported at `seenMs` (kept: the latest per agent). */
  note(agentId: string, seenMs: number): void {
    if (this.closed) return;
    this.keep(agentId, seenMs);
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** The latest instant noted for `agentId` and not yet committed, if any. */
  pending(agentId: string): number | undefined {
    let latest = this.waiting.get(agentId);
    for (const batch of this.queued) {
      const seen = batch.get(agentId);
      if (seen !== undefined && (latest === undefined || seen > latest)) latest = seen;
    }
    return latest;
  }

  /** Writes what is waiting (after any write in progress); a failed write keeps it for the next try. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.size === 0) return this.flushing;
    const batch = this.waiting;
    this.waiting = new Map();
    this.queued.push(batch);
    this.flushing = this.flushing.then(async () => {
      try {
        await this.write(batch);
        this.failures = 0;
      } catch (err) {
        for (const [agentId, seenMs] of batch) this.keep(agentId, seenMs);
        const retryMs = Math.min(this.flushMs * 2 ** this.failures++, MAX_RETRY_MS);
        clearTimeout(this.timer); // a timer set by a note meanwhile would retry at once
        this.timer = this.closed ? undefined : setTimeout(() => void this.flush(), retryMs).unref();
        try {
          this.onError(err);
        } catch {
          // A failing logger must not stop later flushes.
        }
      } finally {
        this.queued.splice(this.queued.indexOf(batch), 1);
      }
    });
    return this.flushing;
  }

  /** Writes what is waiting, once more if that fails, and takes no more (before the store
   *  closes). What still cannot be written is reported to `onError` and lost. */
  async close(): Promise<void> {
    if (this.closed) return this.flushing;
    this.closed = true;
    await this.flush();
    if (this.waiting.size > 0) await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.size > 0) {
      this.onError(new Error(`${this.waiting.size} agents' last_seen could not be written before the registry closed`));
      this.waiting.clear();
    }
  }

  private keep(agentId: string, seenMs: number): void {
    const known = this.waiting.get(agentId);
    if (known === undefined || seenMs > known) this.waiting.set(agentId, seenMs);
  }
}
