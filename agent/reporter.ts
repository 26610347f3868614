import type { Logger } from "pino";
import { status } from "@grpc/grpc-js";
import type { MetricBatch } from "../common/metrics.ts";
import type { ReportQueue } from "./report-queue.ts";
import { backoffDelayMs, DEFAULT_BACKOFF, verdictFor, type BackoffPolicy } from "./retry-policy.ts";
import type { Sender } from "./sender.ts";

export interface ReporterStats {
  /** Batches the server accepted. */
  sent: number;
  /** Batches given up: evicted from the full spool, or refused as invalid by the server. */
  dropped: number;
  /** Batches waiting, including one in flight. */
  buffered: number;
  /** Send attempts that failed and will be retried. */
  failures: number;
  /** Reports the server said it had stored before (a resend after a lost acknowledgement). */
  duplicates: number;
  /** The waiting reports' bytes on disk (0 for a queue in memory). */
  spoolBytes: number;
  /** The last failure, as the sender said it; undefined until one happens. */
  lastError: string | undefined;
}

export interface ReporterOptions {
  sender: Sender;
  queue: ReportQueue;
  log: Logger;
  backoff?: BackoffPolicy;
  /** Reports per second while a backlog drains (default 10), with jitter. */
  drainPerSec?: number;
  random?: () => number;
}

/**
 * Owns the queue (the disk spool) and sends it oldest-first, one call at a time, while the
 * server accepts. A report leaves the queue only once the server acknowledged it (or
 * refused it as invalid). A retryable failure keeps it and stops draining until the backoff
 * timer or the next batch (every report interval) starts it again, so a recovered server is
 * noticed within one interval however long the backoff has grown. A backlog drains at a
 * bounded rate with jitter, so a fleet coming back from an outage does not stampede the
 * server; RESOURCE_EXHAUSTED (HTTP 429) backs off, at least as long as Retry-After says.
 */
export class Reporter {
  private readonly counts = { sent: 0, dropped: 0, failures: 0, duplicates: 0 };
  /** Given up since the last accepted batch; the next batch sent carries the number. */
  private droppedSinceAccepted = 0;
  private consecutiveFailures = 0;
  private draining: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pace: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private closed = false;
  private flushDeadline = Infinity;
  private lastError: string | undefined;
  /** After RESOURCE_EXHAUSTED (HTTP 429): no send before this, whatever new reports come. */
  private holdUntil = 0;

  constructor(private readonly options: ReporterOptions) {}

  stats(): ReporterStats {
    return { ...this.counts, buffered: this.options.queue.size, spoolBytes: this.options.queue.bytes, lastError: this.lastError };
  }

  /** Spools a new batch (dropping the oldest past the bound) and starts draining. */
  enqueue(batch: MetricBatch): void {
    if (this.closed) return;
    let dropped: number;
    try {
      dropped = this.options.queue.append(batch).dropped;
    } catch (err) {
      // The disk refuses (full, read-only): this batch is lost, and said so.
      this.recordDrop();
      this.lastError = `spool: ${(err as Error).message}`;
      this.options.log.error({ err, droppedTotal: this.counts.dropped }, "cannot write the report to the spool: dropped it");
      this.kick();
      return;
    }
    for (let i = 0; i < dropped; i++) {
      this.recordDrop();
      this.options.log.warn({ buffered: this.options.queue.size, droppedSinceAccepted: this.droppedSinceAccepted, droppedTotal: this.counts.dropped },
        "buffer full: dropped the oldest batch");
    }
    this.kick();
  }

  /**
   * Last chance at shutdown: stop retry timers, then send what is waiting for at most
   * `timeoutMs`. What is left stays in the spool for the next start.
   */
  async flush(timeoutMs: number): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.pace?.wake();
    this.flushDeadline = Date.now() + timeoutMs;
    const work = (async () => {
      await this.draining;
      if (this.options.queue.size > 0 && Date.now() < this.flushDeadline) await this.drain();
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    const left = this.options.queue.size;
    if (left > 0) this.options.log.warn({ unsent: left, spoolBytes: this.options.queue.bytes }, "shutting down with unsent batches (a disk spool keeps them for the next start)");
  }

  private kick(fromTimer = false): void {
    if (this.draining || this.closed) return;
    // An overloaded server asked for a pause: new reports wait in the spool until it ends.
    if (!fromTimer && Date.now() < this.holdUntil) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.draining = this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    const { sender, log, queue } = this.options;
    while (!this.closed || Date.now() < this.flushDeadline) {
      const next = queue.peek();
      if (!next) return;
      const reported = this.droppedSinceAccepted;
      const batch: MetricBatch = { ...next.batch, streamId: queue.streamId, sequence: next.sequence };
      // At shutdown, wait for a connection (until the flush deadline) rather than fail at once.
      const outcome = await sender.send(batch, reported, this.closed ? { deadline: this.flushDeadline, waitForReady: true } : {});
      const verdict = verdictFor(outcome.code);
      if (verdict === "accepted") {
        queue.remove(next.sequence);
        this.counts.sent++;
        if (outcome.message.startsWith("duplicate:")) {
          this.counts.duplicates++;
          log.info({ sequence: next.sequence, streamId: queue.streamId }, "the server had this report already (an acknowledgement was lost): not stored twice");
        }
        this.droppedSinceAccepted -= reported;
        if (reported > 0) log.info({ droppedBatches: reported }, "reported dropped batches to the server");
        if (this.consecutiveFailures > 0) {
          log.info({ failedAttempts: this.consecutiveFailures, buffered: queue.size }, "server accepts reports again");
        }
        this.consecutiveFailures = 0;
        // A backlog (after an outage) drains at a bounded rate; the newest report goes at once.
        if (queue.size > 0 && !this.closed) await this.paced();
      } else if (verdict === "rejected") {
        queue.remove(next.sequence);
        this.recordDrop();
        this.lastError = `refused as invalid: ${outcome.message}`;
        log.error({ code: outcome.code, reason: outcome.message, batchTimestampMs: batch.timestampMs },
          "server refused a batch as invalid: dropped it (it can never succeed)");
      } else {
        this.counts.failures++;
        this.consecutiveFailures++;
        this.lastError = `${status[outcome.code] ?? outcome.code}: ${outcome.message}`;
        this.scheduleRetry(outcome.code, outcome.message, outcome.retryAfterMs);
        return;
      }
    }
  }

  /** Waits one drain step: 1/drainPerSec on average, between half and one and a half of it. */
  private paced(): Promise<void> {
    const stepMs = 1000 / (this.options.drainPerSec ?? 10);
    const delayMs = stepMs * (0.5 + (this.options.random ?? Math.random)());
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(this.pace?.timer);
        this.pace = undefined;
        resolve();
      };
      this.pace = { timer: setTimeout(wake, delayMs), wake };
    });
  }

  private scheduleRetry(code: number, message: string, retryAfterMs: number | undefined): void {
    if (this.closed) return;
    const backoff = backoffDelayMs(this.consecutiveFailures, this.options.backoff ?? DEFAULT_BACKOFF, this.options.random);
    const delayMs = Math.max(backoff, retryAfterMs ?? 0);
    const overloaded = code === status.RESOURCE_EXHAUSTED || retryAfterMs !== undefined;
    this.holdUntil = overloaded ? Date.now() + delayMs : 0;
    const level = this.consecutiveFailures === 1 ? "warn" : "debug";
    this.options.log[level]({ code, reason: message, attempt: this.consecutiveFailures, retryInMs: delayMs, buffered: this.options.queue.size },
      "report failed; keeping the batch and retrying");
    this.retryTimer = setTimeout(() => this.kick(true), delayMs);
  }

  private recordDrop(): void {
    this.counts.dropped++;
    this.droppedSinceAccepted++;
  }
}
