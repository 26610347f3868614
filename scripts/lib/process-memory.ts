import { readFileSync } from "node:fs";

/** A process's resident memory in MiB, split the way it is freed: anonymous (heaps, malloc) and file pages (LMDB's maps, code: page cache the kernel reclaims). */
export interface ResidentMiB { rss: number; anon: number; file: number }

export function residentMiB(pid: number): ResidentMiB {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  const rss = kib("Rss") / 1024;
  const anon = kib("Anonymous") / 1024;
  return { rss, anon, file: rss - anon };
}
