import type { Logger } from "pino";
import type { MetricBatch } from "../common/metrics.ts";
import { BatchBuffer } from "./buffer.ts";
import { backoffDelayMs, DEFAULT_BACKOFF, verdictFor, type BackoffPolicy } from "./retry-policy.ts";
import type { Sender } from "./sender.ts";

export interface ReporterStats {
  /** Batches the server accepted. */
  sent: number;
  /** Batches given up: evicted from the full buffer, or refused as invalid by the server. */
  dropped: number;
  /** Batches waiting, including one in flight. */
  buffered: number;
  /** Send attempts that failed and will be retried. */
  failures: number;
}

export interface ReporterOptions {
  sender: Sender;
  bufferMaxSize: number;
  log: Logger;
  backoff?: BackoffPolicy;
  random?: () => number;
}

/**
 * Owns the buffer and sends it oldest-first, one call at a time, while the server accepts.
 * A retryable failure puts the batch back and stops draining until the backoff timer or
 * the next batch (every collection interval) starts it again, so a recovered server is
 * noticed within one interval however long the backoff has grown.
 */
export class Reporter {
  private readonly buffer: BatchBuffer<MetricBatch>;
  private readonly counts = { sent: 0, dropped: 0, failures: 0 };
  /** Given up since the last accepted batch; the next batch sent carries the number. */
  private droppedSinceAccepted = 0;
  private consecutiveFailures = 0;
  private inFlight = false;
  private draining: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private flushDeadline = Infinity;

  constructor(private readonly options: ReporterOptions) {
    this.buffer = new BatchBuffer(options.bufferMaxSize);
  }

  stats(): ReporterStats {
    return { ...this.counts, buffered: this.buffer.size + (this.inFlight ? 1 : 0) };
  }

  /** Queues a new batch (evicting the oldest when full) and starts draining. */
  enqueue(batch: MetricBatch): void {
    if (this.closed) return;
    if (this.buffer.push(batch)) {
      this.recordDrop();
      this.options.log.warn({ buffered: this.buffer.size, droppedSinceAccepted: this.droppedSinceAccepted, droppedTotal: this.counts.dropped },
        "buffer full: dropped the oldest batch");
    }
    this.kick();
  }

  /**
   * Last chance at shutdown: stop retry timers, then send what is buffered for at most
   * `timeoutMs`. Whatever is left after that is lost (and logged).
   */
  async flush(timeoutMs: number): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.flushDeadline = Date.now() + timeoutMs;
    const work = (async () => {
      await this.draining;
      if (this.buffer.size > 0 && Date.now() < this.flushDeadline) await this.drain();
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    const left = this.stats().buffered;
    if (left > 0) this.options.log.warn({ unsent: left }, "shutting down with unsent batches");
  }

  private kick(): void {
    if (this.draining || this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.draining = this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    const { sender, log } = this.options;
    while (!this.closed || Date.now() < this.flushDeadline) {
      const batch = this.buffer.shift();
      if (!batch) return;
      const reported = this.droppedSinceAccepted;
      this.inFlight = true;
      // At shutdown, wait for a connection (until the flush deadline) rather than fail at once.
      const outcome = await sender.send(batch, reported, this.closed ? { deadline: this.flushDeadline, waitForReady: true } : {});
      this.inFlight = false;
      const verdict = verdictFor(outcome.code);
      if (verdict === "accepted") {
        this.counts.sent++;
        this.droppedSinceAccepted -= reported;
        if (reported > 0) log.info({ droppedBatches: reported }, "reported dropped batches to the server");
        if (this.consecutiveFailures > 0) {
          log.info({ failedAttempts: this.consecutiveFailures, buffered: this.buffer.size }, "server accepts reports again");
        }
        this.consecutiveFailures = 0;
      } else if (verdict === "rejected") {
        this.recordDrop();
        log.error({ code: outcome.code, reason: outcome.message, batchTimestampMs: batch.timestampMs },
          "server refused a batch as invalid: dropped it (it can never succeed)");
      } else {
        this.counts.failures++;
        this.consecutiveFailures++;
        if (!this.buffer.unshift(batch)) this.recordDrop();
        this.scheduleRetry(outcome.code, outcome.message);
        return;
      }
    }
  }

  private scheduleRetry(code: number, message: string): void {
    if (this.closed) return;
    const delayMs = backoffDelayMs(this.consecutiveFailures, this.options.backoff ?? DEFAULT_BACKOFF, this.options.random);
    const level = this.consecutiveFailures === 1 ? "warn" : "debug";
    this.options.log[level]({ code, reason: message, attempt: this.consecutiveFailures, retryInMs: delayMs, buffered: this.buffer.size },
      "report failed; keeping the batch and retrying");
    this.retryTimer = setTimeout(() => this.kick(), delayMs);
  }

  private recordDrop(): void {
    this.counts.dropped++;
    this.droppedSinceAccepted++;
  }
}
