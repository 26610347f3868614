import { promises as fsp, type Stats } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";

export interface WalkBounds {
  /** Entries looked at before the walk stops short. */
  maxFiles: number;
  /** Seconds before the walk stops short. */
  maxSeconds: number;
}

export interface WalkOptions extends WalkBounds {
  /** lstat(2) (default `fs.promises.lstat`); tests slow it down. */
  lstat?: (p: string) => Promise<Stats>;
  /** Monotonic milliseconds (default `performance.now`). */
  monotonicMs?: () => number;
}

export interface WalkResult {
  /** Bytes allocated on disk (`du -s -B1 -x`), hard links counted once. */
  bytes: number;
  files: number;
  seconds: number;
  /** False when a bound stopped the walk: `bytes` is then a lower bound. */
  complete: boolean;
  /** Entries that could not be read (permissions, removed while walking). */
  unreadable: number;
}

/**
 * The size of a directory tree, as `du -s -x` counts it. One file system call at a time,
 * so a walk of a large tree (Docker's directory holds millions of files) holds one thread
 * of libuv's pool, not all four the fast collectors' statfs calls need; and each call yields
 * to the event loop, so collection goes on while it runs. It stays on the root's file
 * system: the overlay mounts of running containers under /var/lib/docker are their own file
 * systems and would count the same bytes again.
 */
export async function walkDirectory(root: string, options: WalkOptions): Promise<WalkResult> {
  const lstat = options.lstat ?? ((p: string) => fsp.lstat(p));
  const clock = options.monotonicMs ?? (() => performance.now());
  const started = clock();
  const deadline = started + options.maxSeconds * 1000;
  const top = await lstat(root); // a missing root is the caller's error to report
  if (!top.isDirectory()) throw new Error(`${root} is not a directory`);
  const seenLinks = new Set<string>();
  const pending = [root];
  let bytes = allocated(top), files = 1, unreadable = 0, complete = true;
  walk: while (pending.length > 0) {
    const dir = pending.pop()!;
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      unreadable++;
      continue;
    }
    for (const name of names) {
      if (files >= options.maxFiles || clock() > deadline) {
        complete = false;
        break walk;
      }
      const full = path.join(dir, name);
      let st: Stats;
      try {
        st = await lstat(full);
      } catch {
        unreadable++;
        continue;
      }
      files++;
      if (st.dev !== top.dev) continue;
      if (st.isDirectory()) pending.push(full);
      else if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seenLinks.has(key)) continue;
        seenLinks.add(key);
      }
      bytes += allocated(st);
    }
  }
  return { bytes, files, seconds: (clock() - started) / 1000, complete, unreadable };
}

/** Allocated bytes (512-byte blocks, as du counts), or the apparent size where blocks are not reported. */
function allocated(st: Stats): number {
  return Number.isFinite(st.blocks) ? st.blocks * 512 : st.size;
}
