/** Cumulative CPU time of one CPU line of /proc/stat, in clock ticks. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** The aggregate `cpu` line and every online `cpuN` line, keyed by N. */
export interface ProcStat {
  all: CpuTimes;
  cores: Map<number, CpuTimes>;
}

/**
 * Parses the `cpu` lines of /proc/stat. Total is user..steal: guest and guest_nice are
 * already included in user and nice, so adding them would count them twice. Idle time is
 * idle + iowait (a CPU waiting for I/O is free to run other work).
 */
export function parseProcStat(text: string): ProcStat {
  let all: CpuTimes = { busy: 0, total: 0 };
  const cores = new Map<number, CpuTimes>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("cpu")) continue;
    const fields = line.trim().split(/\s+/);
    const name = fields[0]!;
    let total = 0;
    for (let i = 1; i <= 8 && i < fields.length; i++) total += Number(fields[i]) || 0;
    const idle = (Number(fields[4]) || 0) + (Number(fields[5]) || 0);
    const times = { busy: total - idle, total };
    if (name === "cpu") all = times;
    else {
      const core = Number(name.slice(3));
      if (Number.isInteger(core)) cores.set(core, times);
    }
  }
  return { all, cores };
}

/**
 * Busy share of the time between two readings, in percent (0..100), or undefined when no
 * clock tick elapsed (readings less than a tick apart say nothing). Clamped because
 * some kernels let iowait run backwards.
 */
export function cpuPercent(prev: CpuTimes, cur: CpuTimes): number | undefined {
  const total = cur.total - prev.total;
  if (!(total > 0)) return undefined;
  const busy = cur.busy - prev.busy;
  return Math.min(100, Math.max(0, (busy / total) * 100));
}
