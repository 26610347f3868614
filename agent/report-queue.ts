import { randomBytes } from "node:crypto";
import type { MetricBatch } from "../common/metrics.ts";
import { BatchBuffer } from "./buffer.ts";
import type { SpooledReport } from "./spool.ts";

/**
 * Reports waiting for the server, oldest first, each under its sequence number in the
 * queue's stream: the disk spool (spool.ts) in an agent, or MemoryQueue where nothing may
 * be left on disk (tests, benchmarks).
 */
export interface ReportQueue {
  readonly streamId: string;
  readonly size: number;
  readonly bytes: number;
  /** Appends under the next sequence number; says how many of the oldest the bound dropped. */
  append(batch: MetricBatch): { sequence: number; dropped: number };
  peek(): SpooledReport | undefined;
  /** Removes the oldest report if it is `sequence`. */
  remove(sequence: number): boolean;
  close(): void;
}

/** A queue in memory, bounded by a count, with a new stream identity per process. */
export class MemoryQueue implements ReportQueue {
  readonly streamId = randomBytes(12).toString("base64url");
  private readonly buffer: BatchBuffer<SpooledReport>;
  private next = 1;

  constructor(maxReports: number) {
    this.buffer = new BatchBuffer(maxReports);
  }

  get size(): number {
    return this.buffer.size;
  }

  /** Not counted: memory holds them. */
  get bytes(): number {
    return 0;
  }

  append(batch: MetricBatch): { sequence: number; dropped: number } {
    const sequence = this.next++;
    const evicted = this.buffer.push({ sequence, batch });
    return { sequence, dropped: evicted ? 1 : 0 };
  }

  peek(): SpooledReport | undefined {
    return this.buffer.peek();
  }

  remove(sequence: number): boolean {
    if (this.buffer.peek()?.sequence !== sequence) return false;
    this.buffer.shift();
    return true;
  }

  close(): void {}
}
