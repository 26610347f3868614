import type { MetricPoint } from "../../common/metrics.ts";
import { cpuPercent, parseProcStat, type CpuTimes } from "../proc/parse-stat.ts";
import { point, round2, type Collector } from "./collector.ts";
import { procReader, type ProcOptions } from "./proc-files.ts";

const ALL = -1;

/**
 * `cpu.usage` and `cpu.core_usage{core}` (%) from /proc/stat, as the busy share of the
 * time since the previous collection. The baseline is read at construction, so the
 * first collection already covers a real interval. When no clock tick has elapsed since
 * the baseline (collections less than 10 ms apart) the previous value is repeated, and
 * before any value exists the average since boot stands in.
 */
export function createCpuCollector(options: ProcOptions = {}): Collector {
  const proc = procReader(options);
  const baseline = new Map<number, CpuTimes>();
  const last = new Map<number, number>();
  const zero: CpuTimes = { busy: 0, total: 0 };

  const usage = (key: number, now: CpuTimes): number => {
    const before = baseline.get(key);
    const value = before ? cpuPercent(before, now) : undefined;
    if (value === undefined) {
      // No tick since the baseline: keep it, so the next reading spans a real interval.
      if (!before) baseline.set(key, now);
      const fallback = last.get(key) ?? cpuPercent(zero, now) ?? 0;
      last.set(key, fallback);
      return fallback;
    }
    baseline.set(key, now);
    last.set(key, value);
    return value;
  };

  const stat = parseProcStat(proc.read("stat"));
  baseline.set(ALL, stat.all);
  for (const [core, times] of stat.cores) baseline.set(core, times);

  return {
    name: "cpu",
    collect(nowMs: number): MetricPoint[] {
      const { all, cores } = parseProcStat(proc.read("stat"));
      const points = [point(nowMs, "cpu.usage", round2(usage(ALL, all)))];
      const sorted = [...cores.keys()].sort((a, b) => a - b);
      for (const core of sorted) {
        points.push(point(nowMs, "cpu.core_usage", round2(usage(core, cores.get(core)!)), { core: String(core) }));
      }
      return points;
    },
  };
}
