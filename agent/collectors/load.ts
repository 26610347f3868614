import type { MetricPoint } from "../../common/metrics.ts";
import { parseLoadavg, parseUptime } from "../proc/parse-loadavg.ts";
import { point, type Collector } from "./collector.ts";
import { procReader, type ProcOptions } from "./proc-files.ts";

/** `load.load_1/5/15` from /proc/loadavg and `load.uptime` (s) from /proc/uptime. */
export function createLoadCollector(options: ProcOptions = {}): Collector {
  const proc = procReader(options);
  return {
    name: "load",
    collect(nowMs: number): MetricPoint[] {
      const load = parseLoadavg(proc.read("loadavg"));
      return [
        point(nowMs, "load.load_1", load.load1),
        point(nowMs, "load.load_5", load.load5),
        point(nowMs, "load.load_15", load.load15),
        point(nowMs, "load.uptime", parseUptime(proc.read("uptime"))),
      ];
    },
  };
}
