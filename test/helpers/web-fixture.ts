import type { ProtoBatch, ProtoClient, ProtoPoint } from "./proto-client.ts";
import { adminFetch, type TestServer } from "./server.ts";

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

/**
 * Reachability for the Network page: web-1 and web-2 ping each other (mesh) and a gateway
 * for the last 10 minutes; web-2 loses the gateway 2 minutes ago and traces the path.
 */
export async function sendMesh(client: ProtoClient, now: number): Promise<void> {
  const probes = (source: string, name: string, target: string, ts: number, up: boolean, rtt: number) => {
    const labels = { check: name, type: "icmp", target };
    return [
      { timestamp_ms: ts, metric_name: "check.up", value: up ? 1 : 0, labels },
      ...(up ? [{ timestamp_ms: ts, metric_name: "check.rtt_ms", value: rtt, labels }] : []),
      { timestamp_ms: ts, metric_name: "check.loss_percent", value: up ? (source === "web-1" ? 0 : 20) : 100, labels },
    ];
  };
  for (let ts = now - 600_000; ts <= now - 3_000; ts += 30_000) {
    const gwDown = ts > now - 120_000;
    await client.report({ agent_id: "web-1", timestamp_ms: ts, data_points: [...probes("web-1", "mesh:web-2", "10.0.0.2", ts, true, 0.8 + (ts % 7) / 10), ...probes("web-1", "gw", "10.0.0.254", ts, true, 2.5)] });
    await client.report({
      agent_id: "web-2", timestamp_ms: ts, data_points: [...probes("web-2", "mesh:web-1", "10.0.0.1", ts, true, 140), ...probes("web-2", "gw", "10.0.0.254", ts, !gwDown, 3.1)],
      ...(gwDown && ts <= now - 90_000 && {
        check_events: [
          { check: "gw", type: "icmp", target: "10.0.0.254", timestamp_ms: ts, kind: "CHECK_EVENT_DOWN", up: false, reason_code: "timeout", reason_message: "ping 10.0.0.254: no answer to 5 of 5 probes" },
          { check: "gw", type: "icmp", target: "10.0.0.254", timestamp_ms: ts + 1, kind: "CHECK_EVENT_TRACEROUTE", up: false,
            hops: [{ ttl: 1, address: "10.0.0.1", rtt_ms: [0.4, 0.5, 0.4] }, { ttl: 2, address: "192.168.7.1", rtt_ms: [1.9, -1, 2.2] }, { ttl: 3, rtt_ms: [-1, -1, -1] }] },
        ],
      }),
    });
  }
}

export const DASHBOARD_AGENTS = ["web-1", "web-2", "db-1"];
/** More cards for the screenshots: five with the last 15 minutes, one silent for 10 (offline). */
export const DASHBOARD_EXTRA = ["api-1", "api-2", "cache-1", "queue-1", "edge-2"];
export const DASHBOARD_OFFLINE = "batch-1";
export const DASHBOARD_VIEWER = { username: "viewer-1", password: "Viewer-pass-9a7c" };

/**
 * What test/dashboard.test.ts shows: a week of sparse history for web-1 (the 24 h and 7 d
 * ranges), an hour of 10 s reports for the others, an offline agent, two checks of web-1
 * (its API answers, its database port does not), the reachability mesh, and a viewer.
 */
export async function feedDashboard(server: TestServer, client: ProtoClient): Promise<void> {
  const now = Date.now();
  await sendHistory(client, ["web-1"], now - 7 * 86_400_000, now - 3_600_000, 600_000);
  await sendHistory(client, DASHBOARD_AGENTS, now - 3_600_000, now - 5_000, 10_000);
  await sendHistory(client, DASHBOARD_EXTRA, now - 900_000, now - 5_000, 10_000);
  await sendHistory(client, [DASHBOARD_OFFLINE], now - 1_200_000, now - 600_000, 10_000);
  const check = (name: string, type: string, target: string) => ({ check: name, type, target });
  await client.report({ agent_id: "web-1", timestamp_ms: now - 4_000, data_points: [
    { timestamp_ms: now - 4_000, metric_name: "check.up", value: 1, labels: check("api", "http", "http://api.example/health") },
    { timestamp_ms: now - 4_000, metric_name: "check.rtt_ms", value: 12.5, labels: check("api", "http", "http://api.example/health") },
    { timestamp_ms: now - 4_000, metric_name: "check.up", value: 0, labels: check("db-port", "tcp", "db.example:5432") },
  ] });
  await sendMesh(client, now);
  const created = await adminFetch(`${server.http}/v1/users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...DASHBOARD_VIEWER, role: "viewer" }) });
  if (created.status !== 201) throw new Error(`creating the viewer failed: ${created.status} ${await created.text()}`);
}
