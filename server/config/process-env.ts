import { underPm2Cluster } from "../pm2-cluster.ts";

/*
 * Besides the `TSMON_` fields (load.ts), the one fact the server takes from its environment:
 * whether PM2 runs it as one of several cluster instances. Read here so that the config
 * modules stay the only readers of process.env.
 */

/** True when this process is one of several PM2 cluster instances (see pm2-cluster.ts). */
export function runsInPm2Cluster(): boolean {
  return underPm2Cluster(process.env);
}

/**
 * glibc malloc settings every launcher the project ships sets (systemd unit, Dockerfile,
 * PM2 files, Helm chart, `npm start`): two arenas instead of eight per core, and large
 * buffers (reports) always in maps of their own, returned to the system when freed rather
 * than kept in the heap for reuse. glibc reads them once, at process start.
 * docs/performance.md, "Memory after bursts", has the figures.
 */
export const ALLOCATOR_ENV = { MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "131072" } as const;

/** The ALLOCATOR_ENV variables this process started without, when its malloc is glibc's (elsewhere they mean nothing). */
export function missingAllocatorEnv(): string[] {
  const missing = Object.keys(ALLOCATOR_ENV).filter((name) => !process.env[name]);
  if (missing.length === 0 || process.platform !== "linux") return [];
  const { header } = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
  return header.glibcVersionRuntime ? missing : [];
}
