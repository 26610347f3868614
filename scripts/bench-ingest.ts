import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { encodeBatchProto } from "../server/ingest/decode.ts";
import { SimulatedHost } from "./lib/agent-shape.ts";
import { openChannels, quantile, sendReport } from "./lib/grpc-load.ts";
import { machineLine, printTable, processCpuSeconds, processRssMb } from "./lib/machine.ts";
import { freePort } from "./lib/ports.ts";
import { spawnServer, writeServerConfig } from "./lib/server-process.ts";

/*
 * Ingest load: simulated agents report agent-shaped batches over real gRPC on loopback
 * to a real server process started from its config; prints throughput, server CPU per
 * point and acknowledgement latency. The load generator runs in this process.
 */
const { values } = parseArgs({ options: {
  agents: { type: "string", default: "1000" },
  seconds: { type: "string", default: "20" },
  concurrency: { type: "string", default: "64" },
  channels: { type: "string", default: "8" },
  "ingest-threads": { type: "string", default: "2" },
} });
const agents = Number(values.agents), seconds = Number(values.seconds), concurrency = Number(values.concurrency);

const dir = mkdtempSync(path.join(tmpdir(), "tsmon-bench-"));
const { file, ports } = await writeServerConfig(dir, {
  extra: `[actors]\ningest_threads = ${values["ingest-threads"]}\ningest_queue = 4096\n`, logLevel: "warn",
});
const server = await spawnServer(file, ports);
const pid = server.child.pid!;

const channels = openChannels(server.grpc, Number(values.channels));

const hosts = Array.from({ length: agents }, (_, i) => new SimulatedHost(`bench-${i}`, i + 1));
/** Reports acknowledged per agent: the comparison replays exactly these. */
const acked = new Array<number>(agents).fill(0);
// Recent data, as agents send it (a day more than 6 h past its end takes the slower late path).
const start = Date.now() - 3_600_000;
const nextReport = new Array<number>(agents).fill(0);
let points = 0, reports = 0, refused = 0;
const latencies: number[] = [];

const cpu0 = processCpuSeconds(pid);
const t0 = performance.now();
const deadline = t0 + seconds * 1000;
let cursor = 0;
await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
  const client = channels[worker % channels.length]!;
  while (performance.now() < deadline) {
    const a = cursor++ % agents;
    const batch = hosts[a]!.report(start + nextReport[a]!++ * 10_000, 10);
    const bytes = encodeBatchProto(batch);
    const sent = performance.now();
    const err = await sendReport(client, bytes);
    if (err) { refused++; continue; }
    acked[a]!++;
    latencies.push(performance.now() - sent);
    reports++;
    points += batch.points.length;
  }
}));
const elapsed = (performance.now() - t0) / 1000;
const cpu = processCpuSeconds(pid) - cpu0;
const rss = processRssMb(pid);
for (const c of channels) c.close();
server.child.kill("SIGTERM");
await server.exited;
const tsmonBytes = dirBytes(path.join(dir, "data", "metrics"));
rmSync(dir, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const pct = (p: number) => quantile(latencies, p).toFixed(2);
console.log(`\nbench:ingest — ${agents} simulated agents, ~${Math.round(points / Math.max(1, reports))} points per report, ` +
  `unary ReportMetrics, ${concurrency} in flight over ${channels.length} connections, ${seconds} s`);
console.log(`machine: ${machineLine()}\n`);
printTable([
  ["reports acknowledged", String(reports)],
  ["reports refused", String(refused)],
  ["points/s", Math.round(points / elapsed).toLocaleString("en")],
  ["points per server CPU-second", Math.round(points / Math.max(cpu, 1e-9)).toLocaleString("en")],
  ["server CPU (all threads)", `${cpu.toFixed(1)} s over ${elapsed.toFixed(1)} s`],
  ["ack latency p50 / p99", `${pct(0.5)} ms / ${pct(0.99)} ms`],
  ["server RSS at end", `${rss.toFixed(0)} MB`],
  ["bytes per point on disk (today's raw layout; see bench:query for sealed days)", (tsmonBytes / Math.max(points, 1)).toFixed(1)],
]);

const vm = await compareWithVictoriaMetrics(start, acked, points / Math.max(cpu, 1e-9), tsmonBytes / Math.max(points, 1));
if (vm) {
  console.log(`\nVictoriaMetrics (${vm.binary}) on 127.0.0.1, the same ${vm.points.toLocaleString("en")} points as Prometheus text to /api/v1/import/prometheus ` +
    `(${vm.concurrency} requests in flight, ${vm.reportsPerRequest} reports each), then /internal/force_flush:\n`);
  printTable(vm.rows);
} else {
  console.log("\nvictoria-metrics is not on the PATH: comparison skipped (Debian package victoria-metrics).");
}

/** Ingests the acknowledged reports again into a VictoriaMetrics process, for the same figures; undefined without the binary. */
async function compareWithVictoriaMetrics(startMs: number, perAgent: number[], tsmonPerCpu: number, tsmonBytesPerPoint: number) {
  const binary = (process.env.PATH ?? "").split(":").map((d) => path.join(d, "victoria-metrics")).find((f) => existsSync(f));
  if (!binary) return undefined;
  const vmDir = mkdtempSync(path.join(tmpdir(), "tsmon-bench-vm-"));
  const port = await freePort();
  const child = spawn(binary, [`-storageDataPath=${vmDir}`, `-httpListenAddr=127.0.0.1:${port}`, "-retentionPeriod=100y", "-loggerLevel=ERROR"], { stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 100 && !(await fetch(`${base}/health`).then((r) => r.ok, () => false)); i++) await sleep(100);
    // Regenerate each agent's reports in order (the generator is stateful), as Prometheus text.
    const replay = perAgent.map((n, i) => ({ host: new SimulatedHost(`bench-${i}`, i + 1), n, k: 0 }));
    const reportsPerRequest = 50, concurrency = 4;
    let vmPoints = 0;
    const nextBody = (): string | undefined => {
      const lines: string[] = [];
      for (let r = 0; r < reportsPerRequest; r++) {
        const next = replay.find((x) => x.k < x.n);
        if (!next) break;
        const batch = next.host.report(startMs + next.k++ * 10_000, 10);
        for (const p of batch.points) {
          const labels = [`agent_id="${batch.agentId}"`, ...Object.entries(p.labels).map(([k, v]) => `${k}="${v}"`)].join(",");
          lines.push(`${p.metric.replaceAll(".", "_")}{${labels}} ${p.value} ${p.timestampMs}`);
        }
        vmPoints += batch.points.length;
      }
      return lines.length ? lines.join("\n") + "\n" : undefined;
    };
    const cpu0 = processCpuSeconds(child.pid!);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let body = nextBody(); body; body = nextBody()) {
        const res = await fetch(`${base}/api/v1/import/prometheus`, { method: "POST", body });
        if (!res.ok) throw new Error(`VictoriaMetrics import answered ${res.status}: ${await res.text()}`);
      }
    }));
    await fetch(`${base}/internal/force_flush`);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = processCpuSeconds(child.pid!) - cpu0;
    await sleep(2_000); // let it finish writing the flushed parts
    const bytes = dirBytes(vmDir);
    const perCpu = vmPoints / Math.max(cpu, 1e-9);
    return {
      binary, points: vmPoints, concurrency, reportsPerRequest,
      rows: [
        ["points/s (text built by this process as it sends)", Math.round(vmPoints / elapsed).toLocaleString("en")],
        ["points per VictoriaMetrics CPU-second", Math.round(perCpu).toLocaleString("en")],
        ["tsmon ÷ VictoriaMetrics, points per CPU-second", (tsmonPerCpu / perCpu).toFixed(3)],
        ["bytes per point on disk after force_flush", (bytes / vmPoints).toFixed(2)],
        ["tsmon raw ÷ VictoriaMetrics, bytes per point", (tsmonBytesPerPoint / (bytes / vmPoints)).toFixed(1)],
      ] as [string, string][],
    };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(vmDir, { recursive: true, force: true });
  }
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}
