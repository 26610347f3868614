import { mkdirSync } from "node:fs";
import path from "node:path";
import { open, type Database, type RootDatabase } from "lmdb";
import type { SampleBlock } from "../../common/series-text.ts";
import { decodeReport, encodeReport, pointCount, type QueuedReport } from "./entry-codec.ts";

/** Where the queue lives: its own LMDB environment, apart from the metric partitions. */
export function queueFile(dataDir: string): string {
  return path.join(dataDir, "remote-write", "queue.mdb");
}

/** Reports read from the queue, and the position just past the last of them. */
export interface QueueRead { reports: QueuedReport[]; next: number; bytes: number }

/**
 * The remote-write queue: one log of the reports stored since remote_write was switched on,
 * shared by every receiver, each with its own cursor. A report's key is its byte offset in
 * the log (the head before it was appended), so a receiver's backlog in bytes is
 * `head - cursor`, and dropping the oldest to stay under `queue_max_bytes` is moving the
 * cursor. Appends allocate their offset inside an LMDB write transaction, which LMDB
 * serializes across threads and processes: offsets follow commit order, so a cursor never
 * passes a report committed later with a smaller key. Entries every cursor has passed are
 * deleted. Every PM2 instance's ingest threads append; only the lease holder reads.
 */
export class RemoteWriteQueue {
  readonly env: RootDatabase;
  private readonly log: Database<Buffer, number>;
  private readonly meta: Database<number, string>;

  constructor(dataDir: string) {
    const file = queueFile(dataDir);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.env = open({ path: file, maxDbs: 4, compression: false });
    this.log = this.env.openDB<Buffer, number>({ name: "log", encoding: "binary" });
    this.meta = this.env.openDB<number, string>({ name: "meta" });
  }

  /** Appends one report; resolves once it is durable (in the same commit as other appends of the tick). */
  async append(agentId: string, samples: SampleBlock): Promise<void> {
    const entry = encodeReport(agentId, samples);
    await this.env.transaction(() => {
      const head = this.meta.get("head") ?? 0;
      this.log.put(head, entry);
      this.meta.put("head", head + entry.length);
    });
  }

  head(): number {
    return this.meta.get("head") ?? 0;
  }

  /** The offset of the oldest report still kept (the head when none is). */
  tail(): number {
    for (const key of this.log.getKeys({ limit: 1 })) return key;
    return this.head();
  }

  cursor(name: string): number | undefined {
    return this.meta.get(cursorKey(name));
  }

  /** Gives `name` a cursor, at the oldest report kept, unless it has one. */
  async ensureCursor(name: string): Promise<number> {
    let at = 0;
    await this.env.transaction(() => {
      at = this.meta.get(cursorKey(name)) ?? this.tail();
      this.meta.put(cursorKey(name), at);
    });
    return at;
  }

  /** Whole reports from `from`, until `maxPoints` (at least one report) or `maxBytes` is reached. */
  read(from: number, maxPoints: number, maxBytes = 64 * 1024 * 1024): QueueRead {
    this.env.resetReadTxn();
    const reports: QueuedReport[] = [];
    let next = from, points = 0, bytes = 0;
    for (const { key, value } of this.log.getRange({ start: from })) {
      const n = pointCount(value);
      if (reports.length && (points + n > maxPoints || bytes + value.length > maxBytes)) break;
      reports.push(decodeReport(value));
      points += n;
      bytes += value.length;
      next = key + value.length;
    }
    return { reports, next, bytes };
  }

  /** Moves `name` from `from` to `to` and deletes what every receiver in `allNames` has passed,
   *  in one commit; false (and no move) when another process moved the cursor meanwhile. */
  async advance(name: string, from: number, to: number, allNames: readonly string[] = [name]): Promise<boolean> {
    let moved = false;
    await this.env.transaction(() => {
      moved = (this.meta.get(cursorKey(name)) ?? 0) === from;
      if (!moved) return;
      this.meta.put(cursorKey(name), to);
      this.deletePassed(allNames);
    });
    return moved;
  }

  /**
   * Keeps `name`'s backlog under `maxBytes` by moving its cursor past the oldest reports
   * (they are never sent to it); returns the points so skipped.
   */
  async bound(name: string, maxBytes: number): Promise<{ droppedPoints: number; droppedBytes: number }> {
    let droppedPoints = 0, droppedBytes = 0;
    await this.env.transaction(() => {
      const head = this.meta.get("head") ?? 0;
      const cursor = this.meta.get(cursorKey(name)) ?? 0;
      if (head - cursor <= maxBytes) return;
      let to = head;
      for (const { key, value } of this.log.getRange({ start: cursor })) {
        if (head - key <= maxBytes) {
          to = key;
          break;
        }
        droppedPoints += pointCount(value);
      }
      droppedBytes = to - cursor;
      this.meta.put(cursorKey(name), to);
    });
    return { droppedPoints, droppedBytes };
  }

  /** Deletes the reports every named cursor has passed, and the cursors of receivers no longer configured. */
  async trim(names: readonly string[]): Promise<number> {
    let deleted = 0;
    await this.env.transaction(() => {
      const keep = new Set(names.map(cursorKey));
      for (const key of [...this.meta.getKeys({ start: "cursor:", end: "cursor;" })]) if (!keep.has(key)) this.meta.remove(key);
      deleted = this.deletePassed(names);
    });
    return deleted;
  }

  /** Inside a write transaction: removes the reports before the lowest cursor of `names`. */
  private deletePassed(names: readonly string[]): number {
    const cursors = names.map((n) => this.meta.get(cursorKey(n)));
    if (!cursors.length || cursors.some((c) => c === undefined)) return 0;
    const min = Math.min(...(cursors as number[]));
    const keys = [...this.log.getKeys({ end: min })];
    for (const key of keys) this.log.remove(key);
    return keys.length;
  }

  /** Bytes `name` has still to send. */
  backlog(name: string): number {
    return Math.max(0, this.head() - (this.cursor(name) ?? this.tail()));
  }

  close(): Promise<void> {
    return this.env.close();
  }
}

function cursorKey(name: string): string {
  return `cursor:${name}`;
}
