import { existsSync, readdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { open, type RootDatabase } from "lmdb";
import { DAY_MS, dayStartMs, expiredDays } from "./days.ts";
import { processExists } from "../process-exists.ts";
import { ChunkDay } from "./chunks.ts";
import { PartitionFiles } from "./partition-files.ts";
import { holdsRecords } from "./raw-records.ts";
import { RollupDay, SealedDay } from "./sealed-day.ts";

/** A day is sealed only once its end is further back than this (sealing.ts waits twice as long). */
export const LATE_AFTER_MS = 6 * 3_600_000;

/**
 * The key that closes a raw generation: every record is written on the condition that it is
 * absent (lmdb's conditional write, checked inside the environment's write transaction), so
 * once it is committed no writer of any process adds to that generation — they move on to the
 * next — and the compactor or a seal can read it whole and delete it.
 */
const CLOSED = "closed";

/** What a reader of one day sees: the sealed part, the chunks compacted after it, and the raw generations not yet compacted. */
export interface DayView {
  sealed?: SealedDay;
  chunks?: ChunkDay;
  raws: RootDatabase[];
  /** The raw generations read, to tell whether a compaction ran meanwhile (isCurrent). */
  generations: readonly number[];
}

/** Where a report of one day goes: the current raw generation's environment. */
export interface WriteTarget { db: RootDatabase; generation: number; created: boolean }

/**
 * Metric partitions, one UTC day each, shared by every thread and PM2 process:
 *
 * - raw: `metrics/<day>.mdb`, then `<day>.g<N>.mdb` — one record per report, as written,
 *   into the day's current generation (`metrics/generations.mdb`). The compactor closes
 *   the current generation (see CLOSED) every few seconds, so writers move to the next one.
 * - chunks: `chunks/<day>[.a<N>].mdb` — closed raw generations compacted into per-agent
 *   hour chunks (chunks.ts), written after sealed version N (none: no suffix). A raw
 *   generation is deleted only once its chunks are durable.
 * - rollups: `rollups/<day>.mdb` — 1 min and 1 h aggregates of a sealed day, written before
 *   the sealed version they belong to appears.
 * - sealed: `sealed/<day>.v<N>.mdb` — the day compressed into columns (sealed-day.ts),
 *   holding raw generations 0..N and the chunks made of them. Sealing closes the current
 *   generation, writes a new version, then deletes the raw generations, chunks and older
 *   versions it replaces. Readers take the newest version, its chunks, and only the raw
 *   generations after it; where a crash left a point in two places (chunks written, raw not
 *   yet deleted) readers keep one value per series and instant.
 *
 * Environments are opened lazily; retention closes and deletes whole days. What is on disk,
 * and the files' names, are `files` (partition-files.ts).
 */
export class PartitionSet {
  readonly files: PartitionFiles;
  /** The generation this process last wrote each day's reports to. */
  private readonly writing = new Map<string, number>();
  private readonly handles = new Map<string, RootDatabase>();
  private readonly sealed = new Map<string, SealedDay>();
  private readonly generations: RootDatabase;

  /** With `retentionDays`, opening a new day closes this process's handles on expired days. */
  constructor(dataDir: string, private readonly retentionDays?: number) {
    this.files = new PartitionFiles(dataDir);
    this.generations = open({ path: path.join(this.files.dir, "generations.mdb") });
  }

  /** The environment of the day's current raw generation (tests write legacy records there). */
  recent(day: string): RootDatabase {
    return this.raw(day, this.generation(day));
  }

  /** True once `day` ended long enough ago to be sealed. */
  isLate(day: string, nowMs: number): boolean {
    return dayStartMs(day) + DAY_MS + LATE_AFTER_MS < nowMs;
  }

  /**
   * Where to write a report of `day`: the generation this process wrote to last, or (with
   * `moved`, after a write found it closed) the current one. `created` tells that this open
   * made the file, which a compactor may have deleted a moment before: see MetricStore.
   */
  writeTarget(day: string, moved = false): WriteTarget {
    let generation = this.writing.get(day);
    // A generation whose file is gone was sealed or compacted meanwhile (a reader let its
    // handle go): never make it again, write to the current one.
    if (generation === undefined || moved || !this.isOnDisk(this.files.rawFile(day, generation))) {
      generation = this.generation(day, true);
      this.writing.set(day, generation);
    }
    const file = this.files.rawFile(day, generation);
    const created = !this.isOnDisk(file);
    return { db: this.raw(day, generation), generation, created };
  }

  /**
   * Lets go of a generation this process found closed (its file is about to be deleted: an
   * open handle would keep its disk space). Later, so writes still in flight on it settle first.
   */
  releaseClosed(day: string, generation: number): void {
    const file = this.files.rawFile(day, generation);
    setTimeout(() => {
      if (this.writing.get(day) !== generation) void this.close(file);
    }, 5_000).unref();
  }

  /** Writes `write`'s puts to `db` unless its generation is closed; resolves to whether they were. */
  writeUnlessClosed(db: RootDatabase, write: () => void): Promise<boolean> {
    return db.ifNoExists(CLOSED, write);
  }

  /** The day's current raw generation (`fresh`: as committed now, not as this thread's snapshot saw it). */
  generation(day: string, fresh = false): number {
    if (fresh) this.generations.resetReadTxn();
    return (this.generations.get(day) as number | undefined) ?? 0;
  }

  /**
   * Moves the day's writers to a new generation and closes the one they wrote to; resolves
   * to the closed generation once no write can land in it any more.
   */
  async rotate(day: string): Promise<number> {
    let closed = 0;
    this.generations.transactionSync(() => {
      closed = this.generation(day);
      this.generations.putSync(day, closed + 1);
    });
    await this.closeGeneration(day, closed);
    return closed;
  }

  /**
   * Closes a raw generation (again: a compaction interrupted after the bump closes it here).
   * A generation nobody has written yet is closed too, by making its file: a writer that
   * chose it just before the bump may be creating it this instant, and its records must
   * either land before CLOSED (and be read by whoever closed it) or move on to the next one.
   */
  async closeGeneration(day: string, generation: number): Promise<void> {
    const db = this.raw(day, generation);
    if (db.get(CLOSED) === undefined) await db.put(CLOSED, true);
    await db.flushed;
  }

  /** True when the day's current raw generation holds records (a compaction closes it first). */
  currentHoldsRecords(day: string): boolean {
    const file = this.files.rawFile(day, this.generation(day, true));
    return this.isOnDisk(file) && holdsRecords(this.raw(day, this.generation(day)));
  }

  /** Runs a read of many agents on one listing of the partition files (DirListing.consistentRead). */
  consistentRead<T>(read: () => T): T {
    return this.files.listing.consistentRead(read);
  }

  /**
   * The newest sealed version of `day`, the chunks written after it, and the raw generations
   * after it. The chunks are read at a snapshot taken after the raw files were listed: a
   * generation compacted meanwhile is then found in them (isCurrent tells of the rest).
   */
  view(day: string): DayView {
    const version = this.files.sealedVersions(day).at(-1);
    const sealed = version === undefined ? undefined : this.sealedDay(day, version);
    const after = sealed ? sealed.through : -1;
    const onDisk = new Set(this.files.rawGenerations(day));
    // Generations sealed or compacted (deleted by another process) may still be open here: let them go.
    for (const file of [...this.handles.keys()]) {
      const g = this.files.rawGenerationOf(file, day);
      if (g !== undefined && (!onDisk.has(g) || g <= after)) void this.close(file);
    }
    // Checked on disk again (not in a held listing): opening a file a compaction has just
    // deleted would make an empty one. Its records are in the chunks read below.
    const generations = [...onDisk].filter((g) => g > after && this.isOnDisk(this.files.rawFile(day, g)));
    const raws = generations.map((g) => this.raw(day, g));
    const chunkFile = this.files.chunkFile(day, after);
    let chunks: ChunkDay | undefined;
    if (this.handles.has(chunkFile) || this.files.listing.exists(chunkFile)) {
      const env = this.env(chunkFile, day, "binary");
      env.resetReadTxn();
      chunks = new ChunkDay(env);
    }
    return { ...(sealed ? { sealed } : {}), ...(chunks ? { chunks } : {}), raws, generations };
  }

  /** True while `view` is still what a reader would get now (no seal or compaction replaced it meanwhile). */
  isCurrent(day: string, view: DayView): boolean {
    if (this.files.sealedVersions(day).at(-1) !== view.sealed?.through) return false;
    const after = view.sealed?.through ?? -1;
    const now = this.files.rawGenerations(day).filter((g) => g > after);
    return now.length === view.generations.length && now.every((g, i) => g === view.generations[i]);
  }

  /** The environment compacted chunks of `day` are written to (those after its newest sealed version). */
  chunksForWriting(day: string): { env: RootDatabase; after: number } {
    const after = this.files.sealedVersions(day).at(-1) ?? -1;
    return { env: this.env(this.files.chunkFile(day, after), day, "binary"), after };
  }

  /**
   * Raw generations of `day` before the current one, still on disk: closed ones to compact.
   * Those inside the newest seal are left only by a seal cut short before deleting them (or a
   * writer that reopened a deleted file): compacted too, their points read once.
   */
  closedGenerations(day: string): number[] {
    const current = this.generation(day, true);
    return this.files.rawGenerations(day).filter((g) => g < current);
  }

  /** The environment of one raw generation (it must be on disk). */
  rawEnv(day: string, generation: number): RootDatabase {
    return this.raw(day, generation);
  }

  /** Deletes a raw generation whose records are durable elsewhere (compacted or sealed). */
  removeRaw(day: string, generation: number): Promise<void> {
    return this.remove(this.files.rawFile(day, generation));
  }

  /** Iterates every raw generation up to `upTo` with its environment (for sealing). */
  rawUpTo(day: string, upTo: number): RootDatabase[] {
    return this.files.rawGenerations(day).filter((g) => g <= upTo).map((g) => this.raw(day, g));
  }

  /**
   * Replaces the sealed day: `build` fills a fresh environment, which becomes version
   * `through`; then older versions and raw generations up to `through` are deleted.
   */
  async replaceSealed(day: string, through: number, build: (env: RootDatabase) => Promise<void>): Promise<void> {
    const final = this.files.sealedFile(day, through);
    const draft = path.join(this.files.sealedDir, `building-${process.pid}-${day}.v${through}.mdb`);
    const env = open({ path: draft, compression: false, encoding: "binary" });
    try {
      await build(env);
      await env.flushed;
    } finally {
      await env.close();
    }
    renameSync(draft, final);
    rmSync(`${draft}-lock`, { force: true });
    for (const v of this.files.sealedVersions(day)) if (v < through) await this.remove(this.files.sealedFile(day, v));
    for (const g of this.files.rawGenerations(day)) if (g <= through) await this.remove(this.files.rawFile(day, g));
    for (const { file, after } of this.files.chunkFiles(day)) if (after < through) await this.remove(file);
  }

  /** Deletes half-built sealed versions whose builder process is gone (a seal interrupted by a stop or crash). */
  removeAbandonedDrafts(): void {
    for (const name of readdirSync(this.files.sealedDir)) {
      const m = /^building-(\d+)-/.exec(name);
      if (m && !isRunning(Number(m[1]))) rmSync(path.join(this.files.sealedDir, name), { force: true });
    }
  }

  /** The day's rollups (written when it is sealed), or undefined. */
  rollups(day: string): RollupDay | undefined {
    const file = this.files.rollupFile(day);
    return this.handles.has(file) || this.files.listing.exists(file) ? new RollupDay(this.env(file, day, "binary")) : undefined;
  }

  /** The day's rollup environment, to write while sealing it. */
  rollupsForWriting(day: string): RootDatabase {
    return this.env(this.files.rollupFile(day), day, "binary");
  }

  /** Closes and deletes a whole day's data, raw and sealed (its rollups stay): retention never deletes row by row. */
  async drop(day: string): Promise<void> {
    for (const g of this.files.rawGenerations(day)) await this.remove(this.files.rawFile(day, g));
    for (const v of this.files.sealedVersions(day)) await this.remove(this.files.sealedFile(day, v));
    for (const { file } of this.files.chunkFiles(day)) await this.remove(file);
  }

  async dropRollups(day: string): Promise<void> {
    await this.remove(this.files.rollupFile(day));
  }

  /** Reads on every open environment from here on see the newest commits (lmdb-js keeps a
   *  thread's read snapshot until a later timer tick). */
  renewReads(): void {
    for (const db of this.handles.values()) db.resetReadTxn();
  }

  async closeAll(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    this.sealed.clear();
    await Promise.all(all.map((db) => db.close()));
    await this.generations.close();
  }

  private sealedDay(day: string, version: number): SealedDay {
    const file = this.files.sealedFile(day, version);
    let s = this.sealed.get(file);
    if (!s) {
      s = new SealedDay(this.env(file, undefined, "binary"), version);
      this.sealed.set(file, s);
      // Older versions of this day are superseded: let them go.
      for (const [other] of this.sealed) if (other !== file && path.basename(other).startsWith(`${day}.v`)) void this.close(other);
    }
    return s;
  }

  /** Open here, or on disk (checked now, not in a held listing). */
  private isOnDisk(file: string): boolean {
    return this.handles.has(file) || existsSync(file);
  }

  private raw(day: string, generation: number): RootDatabase {
    return this.env(this.files.rawFile(day, generation), day);
  }

  private env(file: string, day?: string, encoding?: "binary"): RootDatabase {
    let db = this.handles.get(file);
    if (db) return db;
    // Raw generations are written by every ingest thread of every process and closed by the
    // sealer's process: with lmdb-js's overlappingSync (a commit visible before it is flushed)
    // a write that raced the closing there could be acknowledged and then lost (one round in
    // a few of `npm run stress:seal`; none in 25 without it, and no ingest cost measured).
    const rawGeneration = path.dirname(file) === this.files.dir;
    db = open({ path: file, compression: false, noMemInit: true, ...(encoding ? { encoding } : {}), ...(rawGeneration ? { overlappingSync: false } : {}) });
    this.handles.set(file, db);
    if (this.retentionDays && day) {
      const expired = new Set(expiredDays([...new Set([...this.handles.keys()].map(dayOfFile))], dayStartMs(day), this.retentionDays));
      for (const f of this.handles.keys()) if (expired.has(dayOfFile(f))) void this.close(f);
    }
    return db;
  }

  private async close(file: string): Promise<void> {
    const db = this.handles.get(file);
    this.sealed.delete(file);
    if (!db) return;
    this.handles.delete(file);
    await db.close();
  }

  private async remove(file: string): Promise<void> {
    await this.close(file);
    rmSync(file, { force: true });
    rmSync(file + "-lock", { force: true });
  }

}

const dayOfFile = (file: string) => path.basename(file).slice(0, 10);

function isRunning(pid: number): boolean {
  // This process builds in a worker it has just started; an older draft of ours is abandoned.
  return pid !== process.pid && processExists(pid);
}
