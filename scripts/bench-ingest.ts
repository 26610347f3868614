import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { encodeBatchProto } from "../server/ingest/decode.ts";
import { SimulatedHost } from "./lib/agent-shape.ts";
import { openChannels, quantile, sendReport } from "./lib/grpc-load.ts";
import { machineLine, printTable, processCpuSeconds, processRssMb } from "./lib/machine.ts";
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
]);
