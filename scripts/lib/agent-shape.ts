import type { MetricBatch, MetricPoint } from "../../common/metrics.ts";

/**
 * Agent-shaped data, not random floats: what a real host's agent reports every interval.
 * Per-core CPU percentages with two-decimal noise, memory drifting in 4 KiB steps, disk
 * bytes growing slowly against constant totals, network rates, load averages with two
 * decimals, uptime rising by the interval. 95 points per report for 24 cores,
 * 8 mounts, 5 interfaces and 4 block devices.
 */
export interface ShapeOptions { cores: number; mounts: number; interfaces: number; devices: number }

export const DEFAULT_SHAPE: ShapeOptions = { cores: 24, mounts: 8, interfaces: 5, devices: 4 };

export class SimulatedHost {
  private rng: () => number;
  private memUsed: number;
  private diskUsed: number[];
  private uptime: number;
  private readonly memTotal = 16 * 2 ** 30;
  private readonly diskTotal = 500 * 2 ** 30;

  constructor(readonly agentId: string, seed: number, private readonly shape: ShapeOptions = DEFAULT_SHAPE) {
    this.rng = mulberry32(seed);
    this.memUsed = Math.floor((0.3 + this.rng() * 0.4) * this.memTotal / 4096) * 4096;
    this.diskUsed = Array.from({ length: shape.mounts }, () => Math.floor(this.rng() * 0.6 * this.diskTotal));
    this.uptime = Math.floor(this.rng() * 1e6);
  }

  /** The report for `tsMs`, one interval after the previous one. */
  report(tsMs: number, intervalSecs: number): MetricBatch {
    const r = this.rng;
    const two = (x: number) => Math.round(x * 100) / 100;
    const points: MetricPoint[] = [];
    const add = (metric: string, value: number, labels: Record<string, string> = {}) => points.push({ timestampMs: tsMs, metric, value, labels });
    let sum = 0;
    for (let c = 0; c < this.shape.cores; c++) {
      const v = two(Math.min(100, Math.max(0, 20 + c * 3 + (r() - 0.5) * 10)));
      sum += v;
      add("cpu.core_usage", v, { core: String(c) });
    }
    add("cpu.usage", two(sum / this.shape.cores));
    this.memUsed = Math.max(0, this.memUsed + Math.round((r() - 0.5) * 64) * 4096);
    add("memory.total", this.memTotal);
    add("memory.used", this.memUsed);
    add("memory.available", this.memTotal - this.memUsed);
    add("memory.used_percent", two((this.memUsed / this.memTotal) * 100));
    add("memory.swap_total", 2 * 2 ** 30);
    add("memory.swap_used", 0);
    for (let m = 0; m < this.shape.mounts; m++) {
      this.diskUsed[m] = this.diskUsed[m]! + Math.floor(r() * 8) * 4096;
      const mount = m === 0 ? "/" : `/data${m}`;
      add("disk.total", this.diskTotal, { mount });
      add("disk.used", this.diskUsed[m]!, { mount });
      add("disk.available", this.diskTotal - this.diskUsed[m]!, { mount });
      add("disk.used_percent", two((this.diskUsed[m]! / this.diskTotal) * 100), { mount });
    }
    for (let d = 0; d < this.shape.devices; d++) {
      const device = `sd${String.fromCharCode(97 + d)}`;
      add("disk.io_read_bytes", Math.floor(r() * 200) * 4096, { device });
      add("disk.io_write_bytes", Math.floor(r() * 400) * 4096, { device });
    }
    for (let i = 0; i < this.shape.interfaces; i++) {
      const iface = i === 0 ? "lo" : `eth${i - 1}`;
      add("network.bytes_recv", Math.floor(r() * 50_000), { interface: iface });
      add("network.bytes_sent", Math.floor(r() * 30_000), { interface: iface });
      add("network.packets_recv", Math.floor(r() * 400), { interface: iface });
      add("network.packets_sent", Math.floor(r() * 300), { interface: iface });
    }
    add("load.load_1", two(r() * 4));
    add("load.load_5", two(r() * 3));
    add("load.load_15", two(r() * 2));
    this.uptime += intervalSecs;
    add("load.uptime", this.uptime);
    return { agentId: this.agentId, timestampMs: tsMs, points };
  }
}

/** Small deterministic PRNG so runs are comparable. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
