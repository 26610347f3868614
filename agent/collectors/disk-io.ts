import type { MetricPoint } from "../../common/metrics.ts";
import { parseDiskstats } from "../proc/parse-diskstats.ts";
import { point, round2, type Collector } from "./collector.ts";
import { procReader, type ProcOptions } from "./proc-files.ts";
import { createRateTracker } from "./rates.ts";

/**
 * `disk.io_read_bytes` and `disk.io_write_bytes{device}` in bytes per second over the
 * last interval, from /proc/diskstats, for whole physical disks (see parseDiskstats for
 * which devices count). Rates from the first collection on: the baseline is read here.
 */
export function createDiskIoCollector(options: ProcOptions = {}): Collector {
  const proc = procReader(options);
  const rates = createRateTracker(() => parseDiskstats(proc.read("diskstats")), proc.monotonicMs);
  return {
    name: "disk-io",
    collect(nowMs: number): MetricPoint[] {
      const points: MetricPoint[] = [];
      for (const [device, r] of rates()) {
        points.push(
          point(nowMs, "disk.io_read_bytes", round2(r.readBytes), { device }),
          point(nowMs, "disk.io_write_bytes", round2(r.writeBytes), { device }),
        );
      }
      return points;
    },
  };
}
