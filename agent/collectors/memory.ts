import type { MetricPoint } from "../../common/metrics.ts";
import { memoryStats, parseMeminfo } from "../proc/parse-meminfo.ts";
import { percent, point, type Collector } from "./collector.ts";
import { procReader, type ProcOptions } from "./proc-files.ts";

/** `memory.*` from /proc/meminfo: totals and usage in bytes, `used_percent` in %. */
export function createMemoryCollector(options: ProcOptions = {}): Collector {
  const proc = procReader(options);
  return {
    name: "memory",
    collect(nowMs: number): MetricPoint[] {
      const m = memoryStats(parseMeminfo(proc.read("meminfo")));
      return [
        point(nowMs, "memory.total", m.total),
        point(nowMs, "memory.used", m.used),
        point(nowMs, "memory.available", m.available),
        point(nowMs, "memory.used_percent", percent(m.used, m.total)),
        point(nowMs, "memory.swap_total", m.swapTotal),
        point(nowMs, "memory.swap_used", m.swapUsed),
      ];
    },
  };
}
