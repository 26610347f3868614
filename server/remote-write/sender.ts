import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "../log.ts";
import { backoffMs, type FailureReason } from "./backoff.ts";
import type { PostRequest } from "./post.ts";
import type { RemoteWriteQueue } from "./queue.ts";
import { encodeWriteRequest, ShapeLabels, toRequests } from "./write-request.ts";
import type { LabelRules } from "./labels.ts";

/** What a sender reports as it goes (the /metrics counters). */
export interface SenderEvents {
  sent(samples: number): void;
  dropped(samples: number, reason: "queue_full" | "rejected"): void;
  failed(reason: FailureReason): void;
}

export interface SenderOptions {
  name: string;
  queue: RemoteWriteQueue;
  post: PostRequest;
  rules: LabelRules;
  batchMaxSamples: number;
  queueMaxBytes: number;
  backoff: { minMs: number; maxMs: number };
  /** True while this process holds the remote-write lease (only then does it send). */
  holdsLease: () => boolean;
  /** All configured receivers' names: the queue keeps what any of them has still to send. */
  allNames: readonly string[];
  events: SenderEvents;
  log: Logger;
  /** How long an idle sender waits before it looks at the queue again. */
  pollMs: number;
}

/**
 * One receiver's loop: read the next reports from its cursor, send them as requests of at
 * most batch_max_samples, and move the cursor once every request of the batch was taken
 * (or refused for good: dropped and counted). Until then the batch is retried with
 * exponential backoff, so a receiver outage only lengthens the queue, which
 * queue_max_bytes bounds by dropping the oldest. A crash or a lease change while a batch
 * is in flight sends that batch again: at-least-once, and receivers ignore a sample they
 * already have.
 */
export class RemoteSender {
  private stopped = false;
  private readonly wake = new AbortController();
  private readonly shapes: ShapeLabels;
  /** Where the next batch starts while the cursor's commit is in flight (undefined: the stored cursor). */
  private position: number | undefined;
  private committing: Promise<void> = Promise.resolve();
  readonly done: Promise<void>;

  constructor(private readonly o: SenderOptions) {
    this.shapes = new ShapeLabels(o.rules);
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    await this.done;
  }

  private async loop(): Promise<void> {
    const { queue, name } = this.o;
    await queue.ensureCursor(name);
    while (!this.stopped) {
      try {
        if (!this.o.holdsLease()) {
          await this.settle();
          await this.sleep(this.o.pollMs);
          continue;
        }
        await this.bound();
        const from = this.position ?? queue.cursor(name) ?? await queue.ensureCursor(name);
        const batch = queue.read(from, this.o.batchMaxSamples);
        if (!batch.reports.length) {
          await this.settle();
          await this.sleep(this.o.pollMs);
          continue;
        }
        let delivered = true;
        for (const timeseries of toRequests(batch.reports, this.o.rules, this.o.batchMaxSamples, this.shapes)) {
          delivered = await this.deliver(timeseries.reduce((n, s) => n + s.samples.length, 0), encodeWriteRequest(timeseries), from);
          if (!delivered) break;
        }
        if (!delivered || this.stopped) {
          // Resent from the stored cursor, by this process or the next lease holder.
          await this.settle();
          continue;
        }
        // The cursor's commit (an fsync, as long as a request) overlaps the next batch's
        // sending; one at a time, so they land in order.
        await this.committing;
        this.position = batch.next;
        this.committing = queue.advance(name, from, batch.next, this.o.allNames).then((moved) => {
          if (!moved) this.position = undefined;
        });
      } catch (err) {
        this.o.log.error({ err, remote: name }, "remote_write: the sender failed; retrying in a few seconds");
        await this.settle().catch(() => undefined);
        await this.sleep(5000);
      }
    }
    await this.settle().catch(() => undefined);
  }

  /** Waits for the cursor commit in flight; afterwards the stored cursor is the truth again. */
  private async settle(): Promise<void> {
    try {
      await this.committing;
    } finally {
      this.committing = Promise.resolve();
      this.position = undefined;
    }
  }

  /** Sends one request until it is taken or refused for good; false when the batch was given up
   *  (stopping, the lease lost, or its reports dropped from the queue meanwhile). */
  private async deliver(samples: number, body: Buffer, from: number): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.o.post(body, this.wake.signal);
      if (this.stopped) return false;
      if (outcome.type === "sent") {
        this.o.events.sent(samples);
        return true;
      }
      this.o.events.failed(outcome.reason);
      if (outcome.type === "drop") {
        this.o.events.dropped(samples, "rejected");
        this.o.log.warn({ remote: this.o.name, samples, detail: outcome.detail }, "remote_write: the receiver refused a request; its samples are dropped");
        return true;
      }
      // A receiver's Retry-After is honoured up to the longest backoff: the queue's bound is
      // enforced between attempts, so no wait may be longer than that.
      const waitMs = Math.max(Math.min(outcome.retryAfterMs ?? 0, this.o.backoff.maxMs), backoffMs(attempt, this.o.backoff));
      if (attempt === 1 || attempt % 10 === 0) {
        this.o.log.warn({ remote: this.o.name, attempt, detail: outcome.detail, retryInMs: waitMs }, "remote_write: sending failed; the batch stays queued and is retried");
      }
      await this.sleep(waitMs);
      if (this.stopped || !this.o.holdsLease()) return false;
      await this.settle();
      await this.bound();
      if (this.o.queue.cursor(this.o.name) !== from) return false;
    }
  }

  /** Drops the oldest reports past queue_max_bytes, counted. A read first: the write (and
   *  its fsync) happens only when the backlog is over. */
  private async bound(): Promise<void> {
    const { queue, name, queueMaxBytes } = this.o;
    if (queue.head() - (this.position ?? queue.cursor(name) ?? 0) <= queueMaxBytes) return;
    await this.settle();
    const { droppedPoints, droppedBytes } = await queue.bound(name, queueMaxBytes);
    if (!droppedBytes) return;
    this.o.events.dropped(droppedPoints, "queue_full");
    this.o.log.warn({ remote: name, droppedPoints, droppedBytes }, "remote_write: the queue is over queue_max_bytes; the oldest reports are dropped");
    await queue.trim(this.o.allNames);
  }

  private async sleep(ms: number): Promise<void> {
    await delay(ms, undefined, { signal: this.wake.signal, ref: false }).catch(() => undefined);
  }
}
