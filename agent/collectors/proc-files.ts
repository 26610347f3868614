import { closeSync, openSync, readSync } from "node:fs";
import { performance } from "node:perf_hooks";

/** Where the Linux collectors read from, and their clock; tests point both at fakes. */
export interface ProcOptions {
  /** Root of the proc file system (default `/proc`); a fixture directory in tests. */
  procRoot?: string;
  /** Monotonic milliseconds for rate denominators (default `performance.now`), immune to clock steps. */
  monotonicMs?: () => number;
}

export interface ProcReader {
  read(relativePath: string): string;
  monotonicMs(): number;
}

/**
 * Synchronous reads on purpose: /proc files are generated in memory by the kernel and
 * never block on a disk, so a sync read is cheaper than a trip through the thread pool.
 */
export function procReader(options: ProcOptions = {}): ProcReader {
  const root = options.procRoot ?? "/proc";
  return {
    read: (relativePath) => readWholeFile(`${root}/${relativePath}`),
    monotonicMs: options.monotonicMs ?? (() => performance.now()),
  };
}

// One scratch buffer for every read. /proc files report size 0, so readFileSync would
// allocate a fresh 64 KiB buffer per file per collection; reusing one keeps the
// collectors from feeding the garbage collector.
let scratch = Buffer.allocUnsafe(64 * 1024);

/** Reads a whole file as latin1 text (what /proc holds) into the shared scratch buffer. */
export function readWholeFile(path: string): string {
  const fd = openSync(path, "r");
  try {
    let length = 0;
    for (;;) {
      if (length === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger, 0, 0, length);
        scratch = bigger;
      }
      const n = readSync(fd, scratch, length, scratch.length - length, null);
      if (n === 0) return scratch.toString("latin1", 0, length);
      length += n;
    }
  } finally {
    closeSync(fd);
  }
}
