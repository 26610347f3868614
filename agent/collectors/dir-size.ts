import { existsSync } from "node:fs";
import type { MetricPoint } from "../../common/metrics.ts";
import { point, round2, type Collector } from "./collector.ts";
import { walkDirectory, type WalkOptions, type WalkResult } from "./dir-walk.ts";

/** Docker's data directory, walked by default where it exists. */
export const DOCKER_DIR = "/var/lib/docker";

export interface DirSizeOptions extends Omit<WalkOptions, "maxFiles" | "maxSeconds"> {
  /** Directories to size (default: DOCKER_DIR when it exists, else none). */
  paths?: readonly string[] | undefined;
  intervalSecs: number;
  maxFiles: number;
  maxSeconds: number;
  /** Told why a walk failed or stopped short, once per directory and kind of trouble. */
  notice?: (message: string) => void;
}

/** The slow collector, with a way for tests (and a stop) to wait for a walk in progress. */
export interface DirSizeCollector extends Collector {
  /** Never waits: the figures of the last finished walk. */
  collect(nowMs: number): MetricPoint[];
  /** Resolves once no walk runs. */
  idle(): Promise<void>;
}

/**
 * `docker.dir_bytes` and `docker.dir_walk_seconds` (label `path`) for each directory of
 * `paths`. Walking a large tree takes far longer than a collection interval, so `collect`
 * never waits for it: it starts a walk in the background every `intervalSecs` and reports
 * the last finished walk's figures in every collection until the next one finishes.
 */
export function createDirSizeCollector(options: DirSizeOptions): DirSizeCollector {
  const paths = options.paths ?? (existsSync(DOCKER_DIR) ? [DOCKER_DIR] : []);
  const last = new Map<string, WalkResult>();
  const told = new Set<string>();
  let walking: Promise<void> | undefined;
  let lastStartMs = -Infinity;

  // Keyed by directory and kind, not by the message: a message carries the walk's figures.
  const notice = (key: string, message: string) => {
    if (told.has(key)) return;
    told.add(key);
    options.notice?.(message);
  };

  async function walkAll(): Promise<void> {
    for (const dir of paths) {
      try {
        const result = await walkDirectory(dir, options);
        last.set(dir, result);
        if (!result.complete) {
          notice(`${dir}\u0000cut short`, `${dir}: the walk stopped at ${result.files} entries / ${round2(result.seconds)} s (slow_max_files ${options.maxFiles}, slow_max_secs ${options.maxSeconds}); docker.dir_bytes is a lower bound: raise them to size it whole`);
        }
      } catch (err) {
        last.delete(dir);
        notice(`${dir}\u0000failed`, `${dir}: cannot size it (${(err as Error).message}); check slow_paths`);
      }
    }
  }

  return {
    name: "dir-size",
    collect(nowMs: number): MetricPoint[] {
      if (!walking && paths.length > 0 && nowMs - lastStartMs >= options.intervalSecs * 1000) {
        lastStartMs = nowMs;
        walking = walkAll().finally(() => { walking = undefined; });
      }
      const points: MetricPoint[] = [];
      for (const [dir, result] of last) {
        points.push(point(nowMs, "docker.dir_bytes", result.bytes, { path: dir }), point(nowMs, "docker.dir_walk_seconds", round2(result.seconds), { path: dir }));
      }
      return points;
    },
    async idle() {
      await walking;
    },
  };
}
