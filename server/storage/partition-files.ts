import { mkdirSync } from "node:fs";
import path from "node:path";
import { dayOf, isDayName } from "./days.ts";
import { DirListing, fileSize } from "./dir-listing.ts";

const RAW = /^(\d{4}-\d{2}-\d{2})(?:\.g(\d+))?\.mdb$/;
const SEALED = /^(\d{4}-\d{2}-\d{2})\.v(\d+)\.mdb$/;
const ROLLUP = /^(\d{4}-\d{2}-\d{2})\.mdb$/;
const CHUNKS = /^(\d{4}-\d{2}-\d{2})(?:\.a(\d+))?\.mdb$/;

/**
 * The metric partition files of a data dir — their names and what is on disk — read from
 * directory listings (held for a whole read inside DirListing.consistentRead). The layout
 * and how the files replace each other are described on PartitionSet.
 */
export class PartitionFiles {
  readonly dir: string;
  readonly sealedDir: string;
  readonly rollupDir: string;
  readonly chunkDir: string;
  readonly listing = new DirListing();

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, "metrics");
    this.sealedDir = path.join(dataDir, "sealed");
    this.rollupDir = path.join(dataDir, "rollups");
    this.chunkDir = path.join(dataDir, "chunks");
    for (const dir of [this.dir, this.sealedDir, this.rollupDir, this.chunkDir]) mkdirSync(dir, { recursive: true });
  }

  rawFile(day: string, generation: number): string {
    return path.join(this.dir, generation === 0 ? `${day}.mdb` : `${day}.g${generation}.mdb`);
  }

  sealedFile(day: string, version: number): string {
    return path.join(this.sealedDir, `${day}.v${version}.mdb`);
  }

  rollupFile(day: string): string {
    return path.join(this.rollupDir, `${day}.mdb`);
  }

  /** The chunks of `day` written after its sealed version `after` (-1: none). */
  chunkFile(day: string, after: number): string {
    return path.join(this.chunkDir, after < 0 ? `${day}.mdb` : `${day}.a${after}.mdb`);
  }

  /** True when `file` is the raw generation file of `day`; its generation, else undefined. */
  rawGenerationOf(file: string, day: string): number | undefined {
    const m = RAW.exec(path.basename(file));
    return m && m[1] === day && path.dirname(file) === this.dir ? Number(m[2] ?? 0) : undefined;
  }

  /** Raw generations of `day` on disk, oldest first. */
  rawGenerations(day: string): number[] {
    return this.listing.files(this.dir, RAW).filter((f) => f.day === day).map((f) => f.n).sort((a, b) => a - b);
  }

  /** Sealed versions of `day` on disk, oldest first. */
  sealedVersions(day: string): number[] {
    return this.listing.files(this.sealedDir, SEALED).filter((f) => f.day === day).map((f) => f.n).sort((a, b) => a - b);
  }

  /** Chunk files of `day`, with the sealed version each follows (-1: none). */
  chunkFiles(day: string): { file: string; after: number }[] {
    return this.listing.files(this.chunkDir, CHUNKS).filter((f) => f.day === day).map((f) => ({ file: path.join(this.chunkDir, f.name), after: chunkAfter(f.name) }));
  }

  /** Days with data on disk that intersect [fromMs, toMs], oldest first. */
  daysBetween(fromMs: number, toMs: number): string[] {
    const first = dayOf(Math.max(0, fromMs)), last = dayOf(Math.min(toMs, 8.64e15));
    return this.days().filter((d) => d >= first && d <= last);
  }

  /** Days that have raw, compacted or sealed data on disk, oldest first. */
  days(): string[] {
    const days = new Set([...this.listing.files(this.dir, RAW), ...this.listing.files(this.chunkDir, CHUNKS), ...this.listing.files(this.sealedDir, SEALED)].map((f) => f.day));
    return [...days].filter(isDayName).sort();
  }

  /** Days that have raw generations (candidates for compaction), oldest first. */
  rawDays(): string[] {
    return [...new Set(this.listing.files(this.dir, RAW).map((f) => f.day))].filter(isDayName).sort();
  }

  /** Days with data not yet in their newest sealed version (raw generations or chunks): candidates for sealing. */
  unsealedDays(): string[] {
    const days = new Set(this.rawDays());
    for (const f of this.listing.files(this.chunkDir, CHUNKS)) if (chunkAfter(f.name) === (this.sealedVersions(f.day).at(-1) ?? -1)) days.add(f.day);
    return [...days].filter(isDayName).sort();
  }

  /** Days that have rollups on disk, oldest first. */
  rollupDays(): string[] {
    return this.listing.files(this.rollupDir, ROLLUP).map((f) => f.day).filter(isDayName).sort();
  }

  /** Bytes on disk per day, raw, compacted and sealed together. */
  sizes(): { partition: string; bytes: number }[] {
    const bytes = new Map<string, number>();
    for (const [dir, re] of [[this.dir, RAW], [this.chunkDir, CHUNKS], [this.sealedDir, SEALED]] as const) {
      for (const f of this.listing.files(dir, re)) bytes.set(f.day, (bytes.get(f.day) ?? 0) + fileSize(path.join(dir, f.name)));
    }
    return [...bytes].sort().map(([partition, b]) => ({ partition, bytes: b }));
  }

  /** Bytes on disk of the sealed part of `day` (0 when not sealed). */
  sealedBytes(day: string): number {
    return this.sealedVersions(day).reduce((n, v) => n + fileSize(this.sealedFile(day, v)), 0);
  }

  /** Bytes on disk of the day's rollups. */
  rollupBytes(day: string): number {
    return fileSize(this.rollupFile(day));
  }
}

/** The sealed version a chunk file follows (-1: none). */
const chunkAfter = (name: string) => Number(CHUNKS.exec(name)?.[2] ?? -1);
