import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { open, type RootDatabase } from "lmdb";
import { dayOf, dayStartMs, expiredDays, isDayName } from "./days.ts";

const SUFFIX = ".mdb";

/**
 * One LMDB environment per UTC day under `<data_dir>/metrics/`. Environments are opened
 * lazily and shared by every thread of this process; other processes open the same
 * files (LMDB's own locking makes that safe).
 */
export class PartitionSet {
  readonly dir: string;
  private readonly open = new Map<string, RootDatabase>();

  /** With `retentionDays`, opening a new day closes this process's handles on expired days. */
  constructor(dataDir: string, private readonly retentionDays?: number) {
    this.dir = path.join(dataDir, "metrics");
    mkdirSync(this.dir, { recursive: true });
  }

  /** The day's environment; `undefined` when it does not exist and `create` is false. */
  get(day: string, create: boolean): RootDatabase | undefined {
    let db = this.open.get(day);
    if (db) return db;
    const file = this.fileOf(day);
    if (!create && !existsSync(file)) return undefined;
    db = open({ path: file, compression: false, noMemInit: true });
    this.open.set(day, db);
    if (this.retentionDays) {
      for (const old of expiredDays([...this.open.keys()], dayStartMs(day), this.retentionDays)) void this.close(old);
    }
    return db;
  }

  /** Days with a partition on disk that intersect [fromMs, toMs], oldest first. */
  daysBetween(fromMs: number, toMs: number): string[] {
    const first = dayOf(Math.max(0, fromMs)), last = dayOf(Math.min(toMs, 8.64e15));
    return this.days().filter((d) => d >= first && d <= last);
  }

  /** Days that have a partition on disk, oldest first. */
  days(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith(SUFFIX))
      .map((f) => f.slice(0, -SUFFIX.length))
      .filter(isDayName)
      .sort();
  }

  /** Bytes on disk per day partition. */
  sizes(): { partition: string; bytes: number }[] {
    return this.days().map((day) => ({ partition: day, bytes: fileSize(this.fileOf(day)) }));
  }

  /** Closes and deletes a whole day: retention never deletes row by row. */
  async drop(day: string): Promise<void> {
    await this.close(day);
    const file = this.fileOf(day);
    rmSync(file, { force: true });
    rmSync(file + "-lock", { force: true });
  }

  async close(day: string): Promise<void> {
    const db = this.open.get(day);
    if (!db) return;
    this.open.delete(day);
    await db.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((day) => this.close(day)));
  }

  private fileOf(day: string): string {
    return path.join(this.dir, day + SUFFIX);
  }
}

export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
