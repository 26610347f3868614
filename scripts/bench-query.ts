import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { DAY_MS, dayOf } from "../server/storage/days.ts";
import { ControlStore } from "../server/storage/control-store.ts";
import { MetricStore } from "../server/storage/metric-store.ts";
import { PartitionSet } from "../server/storage/partitions.ts";
import { downsample } from "../server/query/aggregate.ts";
import { SimulatedHost } from "./lib/agent-shape.ts";
import { quantile } from "./lib/grpc-load.ts";
import { timeRuns } from "./lib/timing.ts";
import { machineLine, printTable } from "./lib/machine.ts";
import { spawnServer, writeServerConfig } from "./lib/server-process.ts";
import { adminHeaders } from "./lib/test-credentials.ts";

/*
 * Query latency and bytes on disk. Fills a store with agent-shaped data (scripts/lib/
 * agent-shape.ts: 95 series per report every 10 s; one agent over 7 days, the others over
 * the last of them), measures bytes per point raw and after sealing, then times the three
 * reference queries in-process (storage alone) and over HTTP against a real server on that
 * data (keep-alive, one request at a time).
 */
// `--fresh`: the last 25 h as agents send it, compacted while the server runs (bench-fresh.ts).
if (process.argv.includes("--fresh")) {
  await import("./bench-fresh.ts");
  process.exit(0);
}
const { values } = parseArgs({ options: {
  agents: { type: "string", default: "10" },
  days: { type: "string", default: "7" },
  runs: { type: "string", default: "1000" },
  // Seconds of untimed runs before each query is timed: a server lives for months, so its
  // steady state is what users meet, not its first few thousand requests, while V8 is still
  // compiling the paths they take (measured: /latest p50 1.0 ms over its first 3,000
  // requests, 0.5 ms after 6,000).
  "warmup-secs": { type: "string", default: "5" },
} });
const agents = Number(values.agents), days = Number(values.days), runs = Number(values.runs), warmupSecs = Number(values["warmup-secs"]);
for (const [name, value] of Object.entries({ agents, days, runs, "warmup-secs": warmupSecs })) {
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number ≥ 0, not '${values[name as keyof typeof values]}'`);
}
const INTERVAL = 10_000;
const PER_DAY = DAY_MS / INTERVAL;

const dir = mkdtempSync(path.join(tmpdir(), "tsmon-bench-query-"));
const lastDay = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS; // sealable: well past its end
const firstDay = lastDay - (days - 1) * DAY_MS;

// Fill: agent 0 over every day, the others over the last day; 360 reports per write.
const partitions = new PartitionSet(dir);
const store = new MetricStore(partitions);
const hosts = Array.from({ length: agents }, (_, i) => new SimulatedHost(`q-${i}`, i + 1));
let points = 0;
const fillStarted = performance.now();
for (const [i, host] of hosts.entries()) {
  const from = i === 0 ? firstDay : lastDay;
  const reports = i === 0 ? days * PER_DAY : PER_DAY;
  for (let r = 0; r < reports; r += 360) {
    const batch = [];
    for (let k = r; k < Math.min(reports, r + 360); k++) batch.push(...host.report(from + k * INTERVAL + (k % 7), 10).points);
    await store.write(host.agentId, batch);
    points += batch.length;
  }
}
const fillSecs = (performance.now() - fillStarted) / 1000;
// The API answers only for agents in the registry, as ingest would have left them.
const control = new ControlStore(dir);
for (const host of hosts) await control.touchAgent(host.agentId, lastDay + DAY_MS - INTERVAL, undefined, 0);
await control.close();
const rawBytes = partitions.files.sizes().reduce((n, s) => n + s.bytes, 0);

const day24h = [lastDay, lastDay + DAY_MS - 1] as const;
const week = [firstDay, lastDay + DAY_MS - 1] as const;
const time = (fn: () => unknown, n: number) => {
  for (const until = performance.now() + warmupSecs * 1000; performance.now() < until;) fn();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return `${quantile(ms, 0.5).toFixed(2)} / ${quantile(ms, 0.99).toFixed(2)} ms`;
};
const rawDay = time(() => store.queryColumns("q-0", "cpu.usage", ...day24h), Math.min(runs, 50));

const sealStarted = performance.now();
for (let d = firstDay; d <= lastDay; d += DAY_MS) await store.seal(dayOf(d));
const sealSecs = (performance.now() - sealStarted) / 1000;
const sealedBytes = partitions.files.sizes().reduce((n, s) => n + s.bytes, 0);
let rollupBytes = 0;
for (let d = firstDay; d <= lastDay; d += DAY_MS) rollupBytes += partitions.files.rollupBytes(dayOf(d));
const sealedDay = time(() => store.queryColumns("q-0", "cpu.usage", ...day24h), runs);
const sealedDayPairs = time(() => store.query("q-0", "cpu.usage", ...day24h), runs);
const sealedWeek = time(() => store.buckets("q-0", "cpu.usage", ...week, 300_000), runs);
const pointsWeek = time(() => downsample(store.query("q-0", "cpu.usage", ...week)[0]!.points, 300_000), runs);
await partitions.closeAll();

// The same queries over HTTP, against a server on this data dir.
// The per-client rate limit (1,000 a minute by default) would refuse the timed runs.
const { file, ports } = await writeServerConfig(dir, { dataDir: dir, logLevel: "warn", extra: "[http]\nrate_limit_per_minute = 1000000\n" });
const server = await spawnServer(file, ports);
const auth = await adminHeaders(server.http);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = (p: string) => new Promise<number>((resolve, reject) => {
  http.get(`${server.http}${p}`, { agent, headers: auth }, (res) => {
    res.resume();
    res.on("end", () => resolve(res.statusCode!));
  }).on("error", reject);
});
const timeHttp = async (p: string) => {
  const status = await get(p);
  if (status !== 200) throw new Error(`GET ${p} answered ${status}`);
  const ms = await timeRuns(() => get(p), warmupSecs, runs);
  return `${quantile(ms, 0.5).toFixed(2)} / ${quantile(ms, 0.99).toFixed(2)} ms`;
};
let httpDay: string, httpWeek: string, httpLatest: string;
try {
  httpDay = await timeHttp(`/v1/metrics?agent=q-0&metric=cpu.usage&from=${day24h[0]}&to=${day24h[1]}`);
  httpWeek = await timeHttp(`/v1/metrics?agent=q-0&metric=cpu.usage&from=${week[0]}&to=${week[1]}&step=300`);
  httpLatest = await timeHttp(`/v1/agents/q-0/latest`);
} finally {
  // Stopped even when a query fails: the server must not outlive the bench.
  agent.destroy();
  server.child.kill("SIGTERM");
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nbench:query — ${points.toLocaleString("en")} agent-shaped points: q-0 over ${days} days and ${agents - 1} more agents over one day, ` +
  `95 series per report every 10 s (filled in ${fillSecs.toFixed(0)} s, sealed in ${sealSecs.toFixed(0)} s); p50 / p99 over ${runs} runs after ${warmupSecs} s of untimed ones`);
console.log(`machine: ${machineLine()}\n`);
printTable([
  ["bytes per point, raw (one record per report)", (rawBytes / points).toFixed(2)],
  ["bytes per point, sealed days", (sealedBytes / points).toFixed(3)],
  ["bytes per point, their 1 min + 1 h rollups (kept apart)", (rollupBytes / points).toFixed(3)],
  ["one series, 24 h at 10 s (8,640 points), raw, store", rawDay],
  ["one series, 24 h, sealed, store (columns: queryColumns)", sealedDay],
  ["the same as [ts, value] pairs (query, as /v1/metrics prints them)", sealedDayPairs],
  ["one series, 7 days at step=300, sealed, store (from rollups)", sealedWeek],
  ["the same from points (no rollups), store", pointsWeek],
  ["one series, 24 h, HTTP", httpDay],
  ["one series, 7 days at step=300, HTTP", httpWeek],
  ["/v1/agents/:id/latest, HTTP", httpLatest],
]);
