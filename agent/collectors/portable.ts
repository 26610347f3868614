import os from "node:os";
import type { MetricPoint } from "../../common/metrics.ts";
import { percent, point, round2, type Collector } from "./collector.ts";

/**
 * The same metrics on platforms without /proc (macOS, Windows, BSD), through
 * systeminformation. It is imported here, lazily, so a Linux agent never loads it (it
 * costs resident memory and shells out to system tools on these platforms). Differences
 * from Linux: `disk.io_*` is one total under `device="all"`, and packet rates are not
 * reported (systeminformation counts bytes only).
 */
export async function createPortableCollectors(): Promise<Collector[]> {
  // The default export (CommonJS module.exports): the bundle's chunk has no named exports.
  const { default: si } = await import("systeminformation");
  // Baselines: systeminformation computes load and rates since its previous call.
  await Promise.allSettled([si.currentLoad(), si.networkStats("*"), si.fsStats()]);

  const cpu: Collector = {
    name: "cpu",
    async collect(nowMs) {
      const load = await si.currentLoad();
      const points = [point(nowMs, "cpu.usage", round2(load.currentLoad))];
      load.cpus.forEach((c, i) => points.push(point(nowMs, "cpu.core_usage", round2(c.load), { core: String(i) })));
      return points;
    },
  };

  const memory: Collector = {
    name: "memory",
    async collect(nowMs) {
      const m = await si.mem();
      const used = m.total - m.available;
      return [
        point(nowMs, "memory.total", m.total),
        point(nowMs, "memory.used", used),
        point(nowMs, "memory.available", m.available),
        point(nowMs, "memory.used_percent", percent(used, m.total)),
        point(nowMs, "memory.swap_total", m.swaptotal),
        point(nowMs, "memory.swap_used", m.swapused),
      ];
    },
  };

  const disk: Collector = {
    name: "disk",
    async collect(nowMs) {
      const points: MetricPoint[] = [];
      const seen = new Set<string>();
      for (const fs of await si.fsSize()) {
        if (!(fs.size > 0) || seen.has(fs.fs)) continue;
        seen.add(fs.fs);
        const labels = { mount: fs.mount };
        points.push(
          point(nowMs, "disk.total", fs.size, labels),
          point(nowMs, "disk.used", fs.used, labels),
          point(nowMs, "disk.available", fs.available, labels),
          point(nowMs, "disk.used_percent", percent(fs.used, fs.used + fs.available), labels),
        );
      }
      return points;
    },
  };

  const diskIo: Collector = {
    name: "disk-io",
    async collect(nowMs) {
      const s = await si.fsStats();
      if (s.rx_sec === null || s.wx_sec === null || s.rx_sec < 0 || s.wx_sec < 0) return [];
      const labels = { device: "all" };
      return [point(nowMs, "disk.io_read_bytes", round2(s.rx_sec), labels), point(nowMs, "disk.io_write_bytes", round2(s.wx_sec), labels)];
    },
  };

  const network: Collector = {
    name: "network",
    async collect(nowMs) {
      const points: MetricPoint[] = [];
      for (const n of await si.networkStats("*")) {
        if (!(n.rx_sec >= 0) || !(n.tx_sec >= 0)) continue;
        const labels = { interface: n.iface };
        points.push(point(nowMs, "network.bytes_sent", round2(n.tx_sec), labels), point(nowMs, "network.bytes_recv", round2(n.rx_sec), labels));
      }
      return points;
    },
  };

  const load: Collector = {
    name: "load",
    collect(nowMs) {
      const [l1, l5, l15] = os.loadavg();
      return [
        point(nowMs, "load.load_1", round2(l1 ?? 0)),
        point(nowMs, "load.load_5", round2(l5 ?? 0)),
        point(nowMs, "load.load_15", round2(l15 ?? 0)),
        point(nowMs, "load.uptime", Math.floor(os.uptime())),
      ];
    },
  };

  return [cpu, memory, disk, diskIo, network, load];
}
