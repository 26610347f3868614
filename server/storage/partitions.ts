import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { open, type RootDatabase } from "lmdb";
import { DAY_MS, dayOf, dayStartMs, expiredDays, isDayName } from "./days.ts";
import { processExists } from "../process-exists.ts";
import { RollupDay, SealedDay } from "./sealed-day.ts";

/** A day whose end is further back than this takes writes through the generation lock (late data). */
export const LATE_AFTER_MS = 6 * 3_600_000;

const RAW = /^(\d{4}-\d{2}-\d{2})(?:\.g(\d+))?\.mdb$/;
const SEALED = /^(\d{4}-\d{2}-\d{2})\.v(\d+)\.mdb$/;
const ROLLUP = /^(\d{4}-\d{2}-\d{2})\.mdb$/;

/** What a reader of one day sees: the sealed part, and the raw generations written after it. */
export interface DayView {
  sealed?: SealedDay;
  raws: RootDatabase[];
}

/**
 * Metric partitions, one UTC day each, shared by every thread and PM2 process:
 *
 * - raw: `metrics/<day>.mdb`, then `<day>.g<N>.mdb` — one record per report, as written.
 *   Reports go to generation 0 while the day is recent; a late report for an older day
 *   goes, under the generation lock (`metrics/generations.mdb`), to the day's current
 *   generation.
 * - rollups: `rollups/<day>.mdb` — 1 min and 1 h aggregates of a sealed day, written before
 *   the sealed version they belong to appears.
 * - sealed: `sealed/<day>.v<N>.mdb` — the day compressed into columns (sealed-day.ts),
 *   holding raw generations 0..N. Sealing bumps the generation first (under the lock, so
 *   no write is in flight to the ones being sealed), writes a new version, then deletes the
 *   raw generations and older versions it replaces. Readers take the newest version and
 *   only the raw generations after it, so nothing is read twice.
 *
 * Environments are opened lazily; retention closes and deletes whole days.
 */
export class PartitionSet {
  readonly dir: string;
  readonly sealedDir: string;
  readonly rollupDir: string;
  private readonly handles = new Map<string, RootDatabase>();
  private readonly sealed = new Map<string, SealedDay>();
  private readonly generations: RootDatabase;

  /** With `retentionDays`, opening a new day closes this process's handles on expired days. */
  constructor(dataDir: string, private readonly retentionDays?: number) {
    this.dir = path.join(dataDir, "metrics");
    this.sealedDir = path.join(dataDir, "sealed");
    this.rollupDir = path.join(dataDir, "rollups");
    for (const dir of [this.dir, this.sealedDir, this.rollupDir]) mkdirSync(dir, { recursive: true });
    this.generations = open({ path: path.join(this.dir, "generations.mdb") });
  }

  /** The environment a report of a recent day is written to (generation 0). */
  recent(day: string): RootDatabase {
    return this.raw(day, 0);
  }

  /** True when reports of `day` must go through `writeLate`. */
  isLate(day: string, nowMs: number): boolean {
    return dayStartMs(day) + DAY_MS + LATE_AFTER_MS < nowMs;
  }

  /**
   * Writes a late report under the generation lock, synchronously and durably: a seal that
   * bumps the generation waits for it, or it waits for the bump and lands in the new one.
   */
  writeLate(day: string, write: (db: RootDatabase) => void): void {
    this.generations.transactionSync(() => write(this.raw(day, this.generation(day))));
  }

  generation(day: string): number {
    return (this.generations.get(day) as number | undefined) ?? 0;
  }

  /** Starts a seal: later writes go to a new generation; returns the last one to seal. */
  beginSeal(day: string): number {
    let sealUpTo = 0;
    this.generations.transactionSync(() => {
      sealUpTo = this.generation(day);
      this.generations.putSync(day, sealUpTo + 1);
    });
    return sealUpTo;
  }

  /** The newest sealed version of `day` and the raw generations written after it. */
  view(day: string): DayView {
    const version = this.sealedVersions(day).at(-1);
    const sealed = version === undefined ? undefined : this.sealedDay(day, version);
    const after = sealed ? sealed.through : -1;
    // Generations inside the seal may still be open here (deleted by another process): let them go.
    for (let g = 0; g <= after; g++) if (this.handles.has(this.rawFile(day, g))) void this.close(this.rawFile(day, g));
    const raws = this.rawGenerations(day).filter((g) => g > after).flatMap((g) => {
      const file = this.rawFile(day, g);
      return this.handles.has(file) || existsSync(file) ? [this.raw(day, g)] : [];
    });
    return sealed ? { sealed, raws } : { raws };
  }

  /** True while `view` is still what a reader would get now (no seal replaced it meanwhile). */
  isCurrent(day: string, view: DayView): boolean {
    return this.sealedVersions(day).at(-1) === view.sealed?.through;
  }

  /** Raw generations of `day` on disk, oldest first. */
  rawGenerations(day: string): number[] {
    return this.files(this.dir, RAW).filter((f) => f.day === day).map((f) => f.n).sort((a, b) => a - b);
  }

  /** Iterates every raw generation up to `upTo` with its environment (for sealing). */
  rawUpTo(day: string, upTo: number): RootDatabase[] {
    return this.rawGenerations(day).filter((g) => g <= upTo).map((g) => this.raw(day, g));
  }

  /**
   * Replaces the sealed day: `build` fills a fresh environment, which becomes version
   * `through`; then older versions and raw generations up to `through` are deleted.
   */
  async replaceSealed(day: string, through: number, build: (env: RootDatabase) => Promise<void>): Promise<void> {
    const final = path.join(this.sealedDir, `${day}.v${through}.mdb`);
    const draft = path.join(this.sealedDir, `building-${process.pid}-${day}.v${through}.mdb`);
    const env = open({ path: draft, compression: false, encoding: "binary" });
    try {
      await build(env);
      await env.flushed;
    } finally {
      await env.close();
    }
    renameSync(draft, final);
    rmSync(`${draft}-lock`, { force: true });
    for (const v of this.sealedVersions(day)) if (v < through) await this.remove(path.join(this.sealedDir, `${day}.v${v}.mdb`));
    for (const g of this.rawGenerations(day)) if (g <= through) await this.remove(this.rawFile(day, g));
  }

  /** Deletes half-built sealed versions whose builder process is gone (a seal interrupted by a stop or crash). */
  removeAbandonedDrafts(): void {
    for (const name of readdirSync(this.sealedDir)) {
      const m = /^building-(\d+)-/.exec(name);
      if (m && !isRunning(Number(m[1]))) rmSync(path.join(this.sealedDir, name), { force: true });
    }
  }

  /** The day's rollups (written when it is sealed), or undefined. */
  rollups(day: string): RollupDay | undefined {
    const file = this.rollupFile(day);
    return this.handles.has(file) || existsSync(file) ? new RollupDay(this.env(file, day, "binary")) : undefined;
  }

  /** The day's rollup environment, to write while sealing it. */
  rollupsForWriting(day: string): RootDatabase {
    return this.env(this.rollupFile(day), day, "binary");
  }

  /** Bytes on disk of the day's rollups. */
  rollupBytes(day: string): number {
    return fileSize(this.rollupFile(day));
  }

  /** Days with data on disk that intersect [fromMs, toMs], oldest first. */
  daysBetween(fromMs: number, toMs: number): string[] {
    const first = dayOf(Math.max(0, fromMs)), last = dayOf(Math.min(toMs, 8.64e15));
    return this.days().filter((d) => d >= first && d <= last);
  }

  /** Days that have raw or sealed data on disk, oldest first. */
  days(): string[] {
    const days = new Set([...this.files(this.dir, RAW), ...this.files(this.sealedDir, SEALED)].map((f) => f.day));
    return [...days].filter(isDayName).sort();
  }

  /** Days that have raw generations (candidates for sealing), oldest first. */
  rawDays(): string[] {
    return [...new Set(this.files(this.dir, RAW).map((f) => f.day))].filter(isDayName).sort();
  }

  /** Bytes on disk per day, raw and sealed together. */
  sizes(): { partition: string; bytes: number }[] {
    const bytes = new Map<string, number>();
    for (const [dir, re] of [[this.dir, RAW], [this.sealedDir, SEALED]] as const) {
      for (const f of this.files(dir, re)) bytes.set(f.day, (bytes.get(f.day) ?? 0) + fileSize(path.join(dir, f.name)));
    }
    return [...bytes].sort().map(([partition, b]) => ({ partition, bytes: b }));
  }

  /** Bytes on disk of the sealed part of `day` (0 when not sealed). */
  sealedBytes(day: string): number {
    return this.files(this.sealedDir, SEALED).filter((f) => f.day === day).reduce((n, f) => n + fileSize(path.join(this.sealedDir, f.name)), 0);
  }

  /** Closes and deletes a whole day's data, raw and sealed (its rollups stay): retention never deletes row by row. */
  async drop(day: string): Promise<void> {
    for (const g of this.rawGenerations(day)) await this.remove(this.rawFile(day, g));
    for (const v of this.sealedVersions(day)) await this.remove(path.join(this.sealedDir, `${day}.v${v}.mdb`));
  }

  async dropRollups(day: string): Promise<void> {
    await this.remove(this.rollupFile(day));
  }

  /** Reads on every open environment from here on see the newest commits (lmdb-js keeps a
   *  thread's read snapshot until a later timer tick). */
  renewReads(): void {
    for (const db of this.handles.values()) db.resetReadTxn();
  }

  /** Days that have rollups on disk, oldest first. */
  rollupDays(): string[] {
    return this.files(this.rollupDir, ROLLUP).map((f) => f.day).filter(isDayName).sort();
  }

  async closeAll(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    this.sealed.clear();
    await Promise.all(all.map((db) => db.close()));
    await this.generations.close();
  }

  private sealedDay(day: string, version: number): SealedDay {
    const file = path.join(this.sealedDir, `${day}.v${version}.mdb`);
    let s = this.sealed.get(file);
    if (!s) {
      s = new SealedDay(this.env(file, undefined, "binary"), version);
      this.sealed.set(file, s);
      // Older versions of this day are superseded: let them go.
      for (const [other] of this.sealed) if (other !== file && path.basename(other).startsWith(`${day}.v`)) void this.close(other);
    }
    return s;
  }

  private sealedVersions(day: string): number[] {
    return this.files(this.sealedDir, SEALED).filter((f) => f.day === day).map((f) => f.n).sort((a, b) => a - b);
  }

  private rollupFile(day: string): string {
    return path.join(this.rollupDir, `${day}.mdb`);
  }

  private rawFile(day: string, generation: number): string {
    return path.join(this.dir, generation === 0 ? `${day}.mdb` : `${day}.g${generation}.mdb`);
  }

  private raw(day: string, generation: number): RootDatabase {
    return this.env(this.rawFile(day, generation), day);
  }

  private env(file: string, day?: string, encoding?: "binary"): RootDatabase {
    let db = this.handles.get(file);
    if (db) return db;
    db = open({ path: file, compression: false, noMemInit: true, ...(encoding ? { encoding } : {}) });
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

  private files(dir: string, re: RegExp): { name: string; day: string; n: number }[] {
    return readdirSync(dir).flatMap((name) => {
      const m = re.exec(name);
      return m ? [{ name, day: m[1]!, n: Number(m[2] ?? 0) }] : [];
    });
  }
}

const dayOfFile = (file: string) => path.basename(file).slice(0, 10);

function isRunning(pid: number): boolean {
  // This process builds in a worker it has just started; an older draft of ours is abandoned.
  return pid !== process.pid && processExists(pid);
}

export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
