import type { ProtoBatch, ProtoClient, ProtoPoint } from "./proto-client.ts";

/*
 * Reports shaped like a real tsmon agent's (every metric the dashboard draws, system info),
 * with values that vary by agent and time so charts and sparklines have something to show.
 */
export function hostReport(agentId: string, ts: number, cpu?: number): ProtoBatch {
  const seed = [...agentId].reduce((a, c) => a + c.charCodeAt(0), 0);
  const k = ts / 60_000;
  const wave = (period: number, amp: number, base: number) => base + amp * Math.sin((k + seed) / period);
  const p = (metric_name: string, value: number, labels?: Record<string, string>): ProtoPoint => ({ timestamp_ms: ts, metric_name, value: Math.max(0, value), ...(labels && { labels }) });
  const total = cpu ?? wave(7, 18, 30 + (seed % 25));
  const points: ProtoPoint[] = [
    p("cpu.usage", total),
    ...[0, 1, 2, 3].map((c) => p("cpu.core_usage", Math.min(100, total + wave(3 + c, 10, 0)), { core: String(c) })),
    p("memory.used_percent", wave(30, 6, 45 + (seed % 30))),
    p("disk.used_percent", 30 + (seed % 40), { mount: "/" }),
    p("disk.used_percent", 55 + (seed % 20), { mount: "/data" }),
    p("disk.io_read_bytes", wave(5, 2e5, 3e5), { device: "sda" }),
    p("disk.io_write_bytes", wave(4, 4e5, 6e5), { device: "sda" }),
    p("network.bytes_recv", wave(6, 5e4, 1.2e5), { interface: "eth0" }),
    p("network.bytes_sent", wave(8, 3e4, 6e4), { interface: "eth0" }),
    p("network.bytes_recv", 800, { interface: "lo" }),
    p("load.load_1", wave(5, 0.6, 1.2)),
    p("load.load_5", wave(15, 0.3, 1.1)),
    p("load.load_15", wave(45, 0.2, 1.0)),
    p("load.uptime", 86_400 * 3 + seed * 100 + (ts / 1000) % 1e6),
  ];
  return {
    agent_id: agentId, timestamp_ms: ts, data_points: points,
    system_info: { hostname: `${agentId}.example`, os: "Debian GNU/Linux 13", kernel: "6.12.0", arch: "x86_64", cpu_cores: 4, memory_total: 16 * 2 ** 30, disk_total: 512 * 2 ** 30, agent_version: "0.1.0" },
  } as ProtoBatch;
}

/** Reports every `stepMs` from `fromMs` to `toMs` for each agent. */
export async function sendHistory(client: ProtoClient, agents: string[], fromMs: number, toMs: number, stepMs: number): Promise<void> {
  for (let ts = fromMs; ts <= toMs; ts += stepMs) {
    await Promise.all(agents.map((a) => client.report(hostReport(a, ts))));
  }
}
