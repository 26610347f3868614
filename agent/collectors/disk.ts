import { promises as fsp } from "node:fs";
import type { MetricPoint } from "../../common/metrics.ts";
import {
  diskUsage, diskUsedPercent, inodeUsage, isPseudoMount, parseMounts, selectDiskMounts, type DiskUsage, type InodeUsage, type MountEntry, type StatFsLike,
} from "../proc/parse-mounts.ts";
import { percent, point, round2, type Collector } from "./collector.ts";
import { procReader, type ProcOptions } from "./proc-files.ts";

export interface DiskOptions extends ProcOptions {
  /** statfs(2) of a mount point (default `fs.promises.statfs`). */
  statfs?: (mountPoint: string) => Promise<StatFsLike>;
  /** Whether a mount point is a directory (default `fs.promises.stat`); files are bind mounts. */
  isDirectory?: (mountPoint: string) => Promise<boolean>;
  /** A mount whose statfs takes longer is left out of this collection (default 2000 ms). */
  statfsTimeoutMs?: number;
}

export interface MountUsage {
  mount: string;
  usage: DiskUsage;
  /** Undefined where the file system reports no inodes. */
  inodes: InodeUsage | undefined;
}

/**
 * Reads the usage of every reportable mount (see selectDiskMounts). Mount points that are
 * files (a container's /etc/hosts, bind-mounted from the host's disk) are left out; that
 * answer is cached per mount. statfs or stat on a dead network mount can hang for
 * minutes and holds a libuv thread while it does, so each call is bounded by a timeout,
 * and a mount whose previous call has not returned is not asked again: a hung NFS server
 * costs one thread, not the whole pool.
 */
export function createDiskUsageReader(options: DiskOptions = {}): () => Promise<MountUsage[]> {
  const proc = procReader(options);
  const statfs = options.statfs ?? ((p: string) => fsp.statfs(p));
  const isDirectory = options.isDirectory ?? ((p: string) => fsp.stat(p).then((st) => st.isDirectory()));
  const timeoutMs = options.statfsTimeoutMs ?? 2000;
  const pending = new Set<string>();
  const directories = new Map<string, boolean>();

  /** `call()` bounded by the timeout; undefined on failure, timeout, or a call still pending. */
  const guarded = async <T>(key: string, call: () => Promise<T>): Promise<T | undefined> => {
    if (pending.has(key)) return undefined;
    pending.add(key);
    const result = call().then((v) => v, () => undefined).finally(() => pending.delete(key));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, timeoutMs, undefined)));
    try {
      return await Promise.race([result, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const mountKey = (m: MountEntry) => `${m.source}\0${m.mountPoint}\0${m.fsType}`;
  const isDirectoryMount = async (m: MountEntry): Promise<boolean> => {
    const key = mountKey(m);
    const known = directories.get(key);
    if (known !== undefined) return known;
    const answer = await guarded(`stat\0${key}`, () => isDirectory(m.mountPoint));
    if (answer !== undefined) directories.set(key, answer);
    return answer ?? false;
  };

  return async () => {
    const candidates = parseMounts(proc.read("self/mounts")).filter((m) => !isPseudoMount(m));
    const current = new Set(candidates.map(mountKey));
    for (const key of directories.keys()) if (!current.has(key)) directories.delete(key);
    const kinds = await Promise.all(candidates.map(isDirectoryMount));
    const mounts = selectDiskMounts(candidates.filter((_, i) => kinds[i]));
    const stats = await Promise.all(mounts.map((m) => guarded(`statfs\0${m.mountPoint}`, () => statfs(m.mountPoint))));
    const result: MountUsage[] = [];
    mounts.forEach((m, i) => {
      const s = stats[i];
      const usage = s && diskUsage(s);
      if (usage) result.push({ mount: m.mountPoint, usage, inodes: inodeUsage(s) });
    });
    return result;
  };
}

/**
 * `disk.total/used/available` (bytes) and `disk.used_percent` (%) per mount point, and from
 * the same statfs call `disk.inodes_total/inodes_used` and `disk.inodes_used_percent`
 * (a disk can fill up on inodes with space to spare).
 */
export function createDiskCollector(options: DiskOptions = {}): Collector {
  const readUsage = createDiskUsageReader(options);
  return {
    name: "disk",
    async collect(nowMs: number): Promise<MetricPoint[]> {
      const points: MetricPoint[] = [];
      for (const { mount, usage, inodes } of await readUsage()) {
        const labels = { mount };
        points.push(
          point(nowMs, "disk.total", usage.total, labels),
          point(nowMs, "disk.used", usage.used, labels),
          point(nowMs, "disk.available", usage.available, labels),
          point(nowMs, "disk.used_percent", round2(diskUsedPercent(usage)), labels),
        );
        if (inodes) {
          points.push(
            point(nowMs, "disk.inodes_total", inodes.total, labels),
            point(nowMs, "disk.inodes_used", inodes.used, labels),
            point(nowMs, "disk.inodes_used_percent", percent(inodes.used, inodes.total), labels),
          );
        }
      }
      return points;
    },
  };
}
