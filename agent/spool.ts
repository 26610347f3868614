import { randomBytes } from "node:crypto";
import {
  closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, truncateSync,
  writeFileSync, writeSync,
} from "node:fs";
import path from "node:path";
import type { MetricBatch } from "../common/metrics.ts";
import type { ReportQueue } from "./report-queue.ts";
import { encodeRecord, payloadOf, scanRecords } from "./spool-format.ts";

/*
 * The agent's disk spool: every report is appended (and fdatasync'ed) to a segment file
 * before it is sent, and leaves the spool only when the server acknowledged it (or refused
 * it as invalid, or the bound dropped it). Why segment files rather than LMDB: the access
 * pattern is a queue (append at one end, remove at the other), which an append-only log
 * with a watermark does in a few lines that are easy to check after a crash; LMDB would
 * bring a 1 MB native module into an agent that keeps its memory small, and an
 * environment's map size to tune against spool_max_bytes.
 *
 * Files in the spool directory:
 *   stream-id            the random stream identity (written once, durably)
 *   acked                the highest sequence number removed (acknowledged or dropped)
 *   seg-<first seq>.log  records (spool-format.ts), oldest segment first
 *
 * Promises: a report is on disk (fdatasync) before append() returns, so neither a kill -9
 * nor a power cut loses a report the reporter has taken. `acked` is rewritten after every
 * removal without fsync, and made durable before a segment is deleted: after a power cut
 * the agent may send again a few reports the server already acknowledged, which the server
 * recognises by their (stream, sequence) and does not store twice. Sequence numbers never
 * repeat in a stream: the next is past both the watermark and the newest record on disk.
 */

export interface SpoolOptions {
  dir: string;
  /** Bound on the reports' bytes on disk; past it the oldest are dropped. */
  maxBytes: number;
  /** Bound on the number of reports (buffer_max_size). */
  maxReports?: number;
  /** A segment is closed past this size (default: maxBytes / 16, between 64 KiB and 4 MiB). */
  segmentBytes?: number;
  /** Told about what opening found: a torn tail cut off, a damaged segment. */
  notice?: (message: string) => void;
}

/** A report waiting in the spool. */
export interface SpooledReport {
  sequence: number;
  batch: MetricBatch;
}

interface Segment {
  path: string;
  size: number;
  /** Records of this segment still in the spool. */
  live: number;
}

interface Entry {
  sequence: number;
  segment: Segment;
  offset: number;
  length: number;
}

const SEGMENT = /^seg-(\d{16})\.log$/;
const STREAM_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class Spool implements ReportQueue {
  readonly streamId: string;
  private readonly entries: Entry[] = [];
  private head = 0;
  private readonly segments: Segment[] = [];
  private writing: { segment: Segment; fd: number } | undefined;
  private acked: number;
  private nextSequence: number;
  private liveBytes = 0;
  private droppedCount = 0;
  private cached: SpooledReport | undefined;
  private readonly segmentBytes: number;
  private readonly maxReports: number;

  private constructor(private readonly options: SpoolOptions, streamId: string, acked: number) {
    this.streamId = streamId;
    this.acked = acked;
    this.nextSequence = acked + 1;
    this.segmentBytes = options.segmentBytes ?? Math.min(4 * 2 ** 20, Math.max(64 * 2 ** 10, Math.floor(options.maxBytes / 16)));
    this.maxReports = options.maxReports ?? Infinity;
  }

  /** Opens (or creates) the spool in `options.dir`, reading back what a previous run left. */
  static open(options: SpoolOptions): Spool {
    mkdirSync(options.dir, { recursive: true });
    lock(options.dir);
    const spool = new Spool(options, readStreamId(options.dir), readAcked(options.dir));
    spool.load();
    spool.enforceBound();
    return spool;
  }

  /** Reports waiting. */
  get size(): number {
    return this.entries.length - this.head;
  }

  /** Their bytes on disk (headers included). */
  get bytes(): number {
    return this.liveBytes;
  }

  /** Reports dropped by the bound since the spool was opened. */
  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * Appends a report under the next sequence number, durably, then drops the oldest
   * reports past the bound (never the one just appended). Throws when the disk refuses the
   * write (full, read-only): the report is then not in the spool.
   */
  append(batch: MetricBatch): { sequence: number; dropped: number } {
    const sequence = this.nextSequence;
    const record = encodeRecord(sequence, Buffer.from(JSON.stringify(batch)));
    const target = this.segmentFor();
    let written = 0;
    while (written < record.length) written += writeSync(target.fd, record, written);
    fdatasyncSync(target.fd);
    this.nextSequence++;
    this.entries.push({ sequence, segment: target.segment, offset: target.segment.size, length: record.length });
    target.segment.size += record.length;
    target.segment.live++;
    this.liveBytes += record.length;
    return { sequence, dropped: this.enforceBound() };
  }

  /** The oldest report, left in place. */
  peek(): SpooledReport | undefined {
    const entry = this.entries[this.head];
    if (!entry) return undefined;
    if (this.cached?.sequence !== entry.sequence) {
      const bytes = Buffer.allocUnsafe(entry.length);
      const fd = openSync(entry.segment.path, "r");
      try {
        readSync(fd, bytes, 0, entry.length, entry.offset);
      } finally {
        closeSync(fd);
      }
      this.cached = { sequence: entry.sequence, batch: JSON.parse(payloadOf(bytes).toString("utf8")) as MetricBatch };
    }
    return this.cached;
  }

  /** Removes the oldest report if it is `sequence` (it may have been dropped meanwhile). */
  remove(sequence: number): boolean {
    if (this.entries[this.head]?.sequence !== sequence) return false;
    this.removeOldest();
    return true;
  }

  /** Closes the open segment and lets another process open the spool. */
  close(): void {
    if (this.writing) closeSync(this.writing.fd);
    this.writing = undefined;
    rmSync(path.join(this.options.dir, "lock"), { force: true });
  }

  private load(): void {
    const { dir, notice } = this.options;
    const names = readdirSync(dir).filter((n) => SEGMENT.test(n)).sort();
    let newest = this.acked;
    names.forEach((name, i) => {
      const file = path.join(dir, name);
      const bytes = readFileSync(file);
      const { records, end } = scanRecords(bytes);
      if (end < bytes.length) {
        if (i === names.length - 1) {
          // A crash in the middle of an append: the record was never acknowledged to anyone.
          notice?.(`spool: cut off a torn record at the end of ${name} (${bytes.length - end} bytes)`);
        } else {
          notice?.(`spool: ${name} is damaged after byte ${end}; the reports past it are lost`);
        }
        truncateSync(file, end);
      }
      const segment: Segment = { path: file, size: end, live: 0 };
      for (const r of records) {
        if (r.sequence <= newest) continue; // acknowledged already, or out of order
        newest = r.sequence;
        this.entries.push({ sequence: r.sequence, segment, offset: r.offset, length: r.length });
        segment.live++;
        this.liveBytes += r.length;
      }
      this.segments.push(segment);
    });
    this.nextSequence = newest + 1;
    // Segments left with nothing to send (their reports acknowledged before the restart).
    for (const segment of [...this.segments]) if (segment.live === 0) this.deleteSegment(segment);
  }

  /** The segment to append to: the open one, or a new one once it is full (or after a restart). */
  private segmentFor(): { segment: Segment; fd: number } {
    if (this.writing && this.writing.segment.size < this.segmentBytes) return this.writing;
    const previous = this.writing;
    if (previous) {
      closeSync(previous.fd);
      this.writing = undefined;
      if (previous.segment.live === 0) this.deleteSegment(previous.segment);
    }
    const file = path.join(this.options.dir, `seg-${String(this.nextSequence).padStart(16, "0")}.log`);
    const fd = openSync(file, "a");
    syncDir(this.options.dir); // the new file's name survives a power cut
    const segment: Segment = { path: file, size: 0, live: 0 };
    this.segments.push(segment);
    this.writing = { segment, fd };
    return this.writing;
  }

  private enforceBound(): number {
    let dropped = 0;
    while (this.size > 1 && (this.liveBytes > this.options.maxBytes || this.size > this.maxReports)) {
      this.removeOldest();
      dropped++;
    }
    this.droppedCount += dropped;
    return dropped;
  }

  private removeOldest(): void {
    const entry = this.entries[this.head]!;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    this.liveBytes -= entry.length;
    entry.segment.live--;
    this.acked = entry.sequence;
    if (entry.segment.live === 0 && entry.segment !== this.writing?.segment) this.deleteSegment(entry.segment);
    else writeAcked(this.options.dir, this.acked, false);
  }

  /** Deletes a segment with nothing left to send; the watermark is made durable first. */
  private deleteSegment(segment: Segment): void {
    writeAcked(this.options.dir, this.acked, true);
    rmSync(segment.path, { force: true });
    this.segments.splice(this.segments.indexOf(segment), 1);
  }
}

/** One agent per spool: two would send each other's reports under one stream. */
function lock(dir: string): void {
  const file = path.join(dir, "lock");
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
    }
    const pid = Number(readFileSync(file, "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new Error(`the spool ${dir} is in use by process ${pid}: run one agent per spool_dir (set spool_dir or --spool-dir for a second one)`);
    }
    rmSync(file, { force: true }); // left by a process that is gone (kill -9, power cut)
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readStreamId(dir: string): string {
  const file = path.join(dir, "stream-id");
  try {
    const id = readFileSync(file, "utf8").trim();
    if (STREAM_ID.test(id)) return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const id = randomBytes(12).toString("base64url");
  writeDurably(file, `${id}\n`);
  return id;
}

function readAcked(dir: string): number {
  try {
    const n = Number(readFileSync(path.join(dir, "acked"), "utf8").trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

function writeAcked(dir: string, acked: number, durable: boolean): void {
  const file = path.join(dir, "acked");
  if (durable) writeDurably(file, `${acked}\n`);
  else {
    writeFileSync(`${file}.tmp`, `${acked}\n`);
    renameSync(`${file}.tmp`, file);
  }
}

/** Replaces `file` atomically and durably: written, synced, renamed, directory synced. */
function writeDurably(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  syncDir(path.dirname(file));
}

function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
