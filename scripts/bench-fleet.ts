import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type * as grpc from "@grpc/grpc-js";
import { encodeBatchProto } from "../server/ingest/decode.ts";
import type { MetricPoint } from "../common/metrics.ts";
import { SimulatedHost } from "./lib/agent-shape.ts";
import { openChannels, quantile, sendReport } from "./lib/grpc-load.ts";
import { timeRuns } from "./lib/timing.ts";
import { machineLine, printTable } from "./lib/machine.ts";
import { spawnServer, writeServerConfig } from "./lib/server-process.ts";
import { adminHeaders } from "./lib/test-credentials.ts";
import { fleetBuckets } from "../server/query/fleet.ts";
import { MetricStore } from "../server/storage/metric-store.ts";
import { PartitionSet } from "../server/storage/partitions.ts";

/*
 * Fleet reads over REST. Fills a real server, through ReportMetrics, with the last hour of
 * agent-shaped data (95 series per report every 10 s) for `--agents` agents, then times
 * (a) one metric of every agent over the hour at step=60 (/v1/query) and (b) the overview,
 * 4 metrics of every agent over 15 min at step=30 (/v1/overview); keep-alive, one request
 * at a time, p50 / p99 after `--warmup-secs` of untimed runs.
 */
const { values } = parseArgs({ options: {
  agents: { type: "string", default: "1000" },
  runs: { type: "string", default: "50" },
  "warmup-secs": { type: "string", default: "5" },
  // Reports per ReportMetrics call while filling (each a 10 s step of one agent).
  "reports-per-call": { type: "string", default: "30" },
} });
const agents = Number(values.agents), runs = Number(values.runs), warmupSecs = Number(values["warmup-secs"]), perCall = Number(values["reports-per-call"]);
for (const [name, value] of Object.entries({ agents, runs, "warmup-secs": warmupSecs, "reports-per-call": perCall })) {
  if (!Number.isFinite(value) || value < (name === "warmup-secs" ? 0 : 1)) throw new Error(`--${name} must be a positive number, not '${values[name as keyof typeof values]}'`);
}
const INTERVAL = 10_000;
const REPORTS = 3_600_000 / INTERVAL;

const dir = mkdtempSync(path.join(tmpdir(), "tsmon-bench-fleet-"));
// The per-client rate limit would refuse the timed runs; the ingest queue takes the fill's bursts.
const { file, ports } = await writeServerConfig(dir, { logLevel: "warn", extra: "[http]\nrate_limit_per_minute = 1000000\n" });
const server = await spawnServer(file, ports);
let channels: grpc.Client[] = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
try {
  // Fill: the hour before now, each agent's reports offset by up to 10 s as real agents are.
  const end = Math.floor(Date.now() / INTERVAL) * INTERVAL;
  const start = end - (REPORTS - 1) * INTERVAL;
  channels = openChannels(server.grpc, 4);
  const hosts = Array.from({ length: agents }, (_, i) => new SimulatedHost(`fleet-${String(i).padStart(4, "0")}`, i + 1));
  const calls: { host: SimulatedHost; first: number }[] = [];
  for (let first = 0; first < REPORTS; first += perCall) for (const host of hosts) calls.push({ host, first });
  let points = 0, next = 0;
  const fillStarted = performance.now();
  const worker = async (w: number) => {
    for (let c = next++; c < calls.length; c = next++) {
      const { host, first } = calls[c]!;
      const offset = (Number(host.agentId.slice(-4)) % 10) * 1_000;
      const batch: MetricPoint[] = [];
      for (let k = first; k < Math.min(REPORTS, first + perCall); k++) batch.push(...host.report(start - INTERVAL + offset + k * INTERVAL, 10).points);
      const error = await sendReport(channels[w % channels.length]!, encodeBatchProto({ agentId: host.agentId, timestampMs: batch.at(-1)!.timestampMs, points: batch }));
      if (error) throw new Error(`ReportMetrics for ${host.agentId} failed: ${error.message}`);
      points += batch.length;
    }
  };
  await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
  const fillSecs = (performance.now() - fillStarted) / 1000;
  // The compactor folds the fill into hour chunks: time it, then query what users query, the compacted hour.
  const compactStarted = performance.now();
  const rawFiles = () => readdirSync(path.join(dir, "data", "metrics")).filter((f) => /^\d{4}-\d{2}-\d{2}(\.g\d+)?\.mdb$/.test(f));
  // Every generation written during the fill compacted and deleted (the last one is rotated
  // at the next pass): the reads below find chunks, not raw records.
  const filled = new Set(rawFiles());
  while (rawFiles().some((f) => filled.has(f)) && performance.now() - compactStarted < 600_000) await new Promise((r) => setTimeout(r, 500));
  const compactSecs = (performance.now() - compactStarted) / 1000;

  const auth = await adminHeaders(server.http);
  const get = (p: string) => new Promise<{ status: number; bytes: number }>((resolve, reject) => {
    http.get(`${server.http}${p}`, { agent, headers: auth }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => resolve({ status: res.statusCode!, bytes }));
    }).on("error", reject);
  });
  const timeHttp = async (p: string) => {
    const first = await get(p);
    if (first.status !== 200) throw new Error(`GET ${p} answered ${first.status}`);
    const ms = await timeRuns(() => get(p), warmupSecs, runs);
    return `${quantile(ms, 0.5).toFixed(1)} / ${quantile(ms, 0.99).toFixed(1)} ms  (${(first.bytes / 1e6).toFixed(2)} MB)`;
  };
  const baseline = await timeHttp(`/v1/query?metric=cpu.usage&agents=none&from=${end - 3_600_000}&to=${end}&step=60`);
  const query = await timeHttp(`/v1/query?metric=cpu.usage&from=${end - 3_600_000}&to=${end}&step=60`);
  const overview = await timeHttp("/v1/overview?metrics=cpu.usage,memory.used_percent,disk.used_percent,network.bytes_recv&window=15m&step=30");
  // The same reads in this process, on the server's data dir (LMDB takes readers from any
  // process): what the store costs, apart from the route, JSON and HTTP.
  const partitions = new PartitionSet(path.join(dir, "data"));
  const ids = hosts.map((h) => h.agentId);
  const timeStore = async (read: () => unknown) => {
    const ms = await timeRuns(async () => read(), warmupSecs, runs);
    return `${quantile(ms, 0.5).toFixed(1)} / ${quantile(ms, 0.99).toFixed(1)} ms`;
  };
  const store = new MetricStore(partitions);
  const now = Date.now();
  const storeQuery = await timeStore(() => fleetBuckets(store, { agentIds: ids, metrics: ["cpu.usage"], fromMs: end - 3_600_000, toMs: end, stepMs: 60_000 }));
  const storeOverview = await timeStore(() => fleetBuckets(store, { agentIds: ids, metrics: ["cpu.usage", "memory.used_percent", "disk.used_percent", "network.bytes_recv"], fromMs: now - 900_000, toMs: now, stepMs: 30_000, fields: ["avg"] }));
  await partitions.closeAll();

  console.log(`\nbench:fleet — ${agents.toLocaleString("en")} agents × the last hour, ${points.toLocaleString("en")} agent-shaped points (95 series per report every 10 s), ` +
    `filled over ReportMetrics in ${fillSecs.toFixed(0)} s (${perCall} reports per call), compacted ${compactSecs.toFixed(0)} s later; p50 / p99 over ${runs} runs after ${warmupSecs} s of untimed ones, HTTP keep-alive, one at a time`);
  console.log(`machine: ${machineLine()}\n`);
  printTable([
    ["/v1/query matching no agent: the route, auth and HTTP alone", baseline],
    [`(a) /v1/query: cpu.usage of ${agents} agents, 1 h at step=60 (target p99 ≤ 50 ms)`, query],
    ["    the same read in the store (fleetBuckets, no route, JSON or HTTP)", storeQuery],
    [`(b) /v1/overview: 4 metrics × ${agents} agents, 15 min at step=30 (target p99 ≤ 100 ms)`, overview],
    ["    the same read in the store", storeOverview],
  ]);
} finally {
  // Stopped even when a step fails: the server must not outlive the bench.
  for (const c of channels) c.close();
  agent.destroy();
  server.child.kill("SIGTERM");
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
