import { readdirSync, rmSync, statSync, mkdtempSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { encodeBatchProto } from "../server/ingest/decode.ts";
import { MetricStore } from "../server/storage/metric-store.ts";
import { PartitionSet } from "../server/storage/partitions.ts";
import { SimulatedHost } from "./lib/agent-shape.ts";
import { openChannels, quantile, sendReport } from "./lib/grpc-load.ts";
import { machineLine, printTable } from "./lib/machine.ts";
import { spawnServer, writeServerConfig } from "./lib/server-process.ts";
import { adminHeaders } from "./lib/test-credentials.ts";
import { timeRuns } from "./lib/timing.ts";

/*
 * Fresh data (`npm run bench:query -- --fresh`): fills the last 25 h of 4 agent-shaped hosts
 * (95 series every 10 s) through the ReportMetrics RPC into a running server, then prints the
 * data dir's bytes per point every 10 s for 2 min while the compactor works (du-style: blocks
 * on disk, rollups and control store included) and the 24 h query of one series, in the store
 * and over REST (keep-alive), once compaction has settled.
 */
const { values } = parseArgs({ options: {
  fresh: { type: "boolean" },
  agents: { type: "string", default: "4" },
  hours: { type: "string", default: "25" },
  runs: { type: "string", default: "500" },
  "watch-secs": { type: "string", default: "120" },
  "warmup-secs": { type: "string", default: "3" },
} });
const agents = Number(values.agents), hours = Number(values.hours), runs = Number(values.runs);
const watchSecs = Number(values["watch-secs"]), warmupSecs = Number(values["warmup-secs"]);
const INTERVAL = 10_000;

const dir = mkdtempSync(path.join(tmpdir(), "tsmon-bench-fresh-"));
const dataDir = path.join(dir, "data");
const { file, ports } = await writeServerConfig(dir, { dataDir, logLevel: "warn", extra: "[http]\nrate_limit_per_minute = 1000000\n" });
const server = await spawnServer(file, ports);
const duBytes = (p: string): number => {
  let total = 0;
  for (const entry of readdirSync(p, { withFileTypes: true })) {
    const child = path.join(p, entry.name);
    total += entry.isDirectory() ? duBytes(child) : statSync(child).blocks * 512;
  }
  return total;
};

try {
  const now = Date.now();
  const from = now - hours * 3_600_000;
  const hosts = Array.from({ length: agents }, (_, i) => new SimulatedHost(`fresh-${i}`, i + 1));
  const channels = openChannels(server.grpc, agents);
  let points = 0;
  const fillStarted = performance.now();
  await Promise.all(hosts.map(async (host, i) => {
    for (let ts = from; ts <= now; ts += INTERVAL) {
      const batch = host.report(ts, 10);
      const err = await sendReport(channels[i]!, encodeBatchProto({ agentId: host.agentId, timestampMs: ts, points: batch.points }));
      if (err) throw new Error(`report refused: ${err.message}`);
      points += batch.points.length;
    }
  }));
  const fillSecs = (performance.now() - fillStarted) / 1000;
  for (const c of channels) c.close();

  console.log(`\nbench:query --fresh — ${points.toLocaleString("en")} points: ${agents} hosts × ${hours} h at 10 s, 95 series per report, sent through ReportMetrics in ${fillSecs.toFixed(0)} s`);
  console.log(`machine: ${machineLine()}\n`);
  const sizes: [string, string][] = [];
  const watchStarted = performance.now();
  for (let s = 0; s <= watchSecs; s += 10) {
    await new Promise((r) => setTimeout(r, Math.max(0, watchStarted + s * 1000 - performance.now())));
    const bytes = duBytes(dataDir);
    const raw = readdirSync(path.join(dataDir, "metrics")).filter((f) => /^\d{4}-\d{2}-\d{2}(\.g\d+)?\.mdb$/.test(f)).length;
    sizes.push([`${s} s after the last report`, `${(bytes / points).toFixed(3)} B/point (${(bytes / 2 ** 20).toFixed(1)} MiB, ${raw} raw generation files)`]);
    console.log(`  ${sizes.at(-1)![0]}: ${sizes.at(-1)![1]}`);
  }

  // Where the bytes are, directory by directory (control.mdb and its kin at the top level).
  const parts = readdirSync(dataDir, { withFileTypes: true }).map((e) => [e.name, e.isDirectory() ? duBytes(path.join(dataDir, e.name)) : statSync(path.join(dataDir, e.name)).blocks * 512] as const);
  console.log(`  by entry: ${parts.filter(([, b]) => b > 0).map(([name, b]) => `${name} ${(b / points).toFixed(3)}`).join(", ")} (B/point)`);

  // The 24 h query, in the store (this process reading the same files) and over REST.
  const partitions = new PartitionSet(dataDir);
  const store = new MetricStore(partitions);
  const to = Date.now(), dayFrom = to - 24 * 3_600_000;
  const inStore: number[] = [];
  for (const until = performance.now() + warmupSecs * 1000; performance.now() < until;) store.queryColumns("fresh-0", "cpu.usage", dayFrom, to);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    store.queryColumns("fresh-0", "cpu.usage", dayFrom, to);
    inStore.push(performance.now() - t0);
  }
  inStore.sort((a, b) => a - b);
  const got = store.queryColumns("fresh-0", "cpu.usage", dayFrom, to)[0]?.timestamps.length ?? 0;
  await partitions.closeAll();

  const auth = await adminHeaders(server.http);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (p: string) => new Promise<number>((resolve, reject) => {
    http.get(`${server.http}${p}`, { agent, headers: auth }, (res) => { res.resume(); res.on("end", () => resolve(res.statusCode!)); }).on("error", reject);
  });
  const timeHttp = async (p: string) => {
    if ((await get(p)) !== 200) throw new Error(`GET ${p} failed`);
    const ms = await timeRuns(() => get(p), warmupSecs, runs);
    return `${quantile(ms, 0.5).toFixed(2)} / ${quantile(ms, 0.99).toFixed(2)} ms`;
  };
  const q = `/v1/metrics?agent=fresh-0&metric=cpu.usage&from=${dayFrom}&to=${to}`;
  const rest = await timeHttp(q);
  const restColumns = await timeHttp(`${q}&format=columns`);
  agent.destroy();

  console.log("");
  printTable([
    ...sizes.filter((_, i) => i % 3 === 0 || i === sizes.length - 1),
    [`one series, last 24 h (${got.toLocaleString("en")} points: chunks + raw tail), store, p50 / p99`, `${quantile(inStore, 0.5).toFixed(2)} / ${quantile(inStore, 0.99).toFixed(2)} ms`],
    ["the same over REST (/v1/metrics, keep-alive), p50 / p99", rest],
    ["the same with format=columns, p50 / p99", restColumns],
  ]);
} finally {
  server.child.kill("SIGTERM");
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
