import type { MetricPoint } from "../../common/metrics.ts";
import { parseNetDev } from "../proc/parse-net-dev.ts";
import { point, round2, type Collector } from "./collector.ts";
import { procReader, type ProcOptions } from "./proc-files.ts";
import { createRateTracker } from "./rates.ts";

/**
 * `network.bytes_sent/bytes_recv/packets_sent/packets_recv{interface}` as per-second
 * rates over the last interval, from /proc/net/dev, for every interface (loopback
 * included, as the reference does). An interface that appears gets its first rate one
 * interval later; one that disappears simply stops being reported.
 */
export function createNetworkCollector(options: ProcOptions = {}): Collector {
  const proc = procReader(options);
  const rates = createRateTracker(() => parseNetDev(proc.read("net/dev")), proc.monotonicMs);
  return {
    name: "network",
    collect(nowMs: number): MetricPoint[] {
      const points: MetricPoint[] = [];
      for (const [name, r] of rates()) {
        const labels = { interface: name };
        points.push(
          point(nowMs, "network.bytes_sent", round2(r.bytesSent), labels),
          point(nowMs, "network.bytes_recv", round2(r.bytesRecv), labels),
          point(nowMs, "network.packets_sent", round2(r.packetsSent), labels),
          point(nowMs, "network.packets_recv", round2(r.packetsRecv), labels),
        );
      }
      return points;
    },
  };
}
