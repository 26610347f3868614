import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { ReportStreamClient } from "../agent/report-stream.ts";
import { encodeBatchProto } from "../server/ingest/decode.ts";
import { SimulatedHost } from "./lib/agent-shape.ts";
import { openChannels, quantile, sendReport } from "./lib/grpc-load.ts";
import { machineLine, printTable, processCpuSeconds, processRssMb } from "./lib/machine.ts";
import { freePort } from "./lib/ports.ts";
import { adminFetch } from "./lib/test-credentials.ts";
import { spawnServer, writeServerConfig } from "./lib/server-process.ts";

/*
 * Ingest load: simulated agents report agent-shaped batches over real gRPC on loopback
 * to a real server process started from its config; prints throughput, server CPU per
 * point and acknowledgement latency. The load generator runs in this process.
 * `--transport stream` (default) sends as the agent does, over one ReportStream per
 * connection; `--transport unary` makes one ReportMetrics call per report, as oxmon agents do.
 * `--instances N` (N > 1) runs the server under PM2 cluster mode instead, as
 * ecosystem.config.cjs deploys it; CPU and RSS are then summed over the instances.
 * `--collections-per-report N` gathers N collections into each report, as an agent with
 * report_interval_secs = N × collection_interval_secs sends them.
 */
const { values } = parseArgs({ options: {
  agents: { type: "string", default: "10000" },
  seconds: { type: "string", default: "20" },
  concurrency: { type: "string", default: "64" },
  channels: { type: "string", default: "8" },
  "ingest-threads": { type: "string", default: "1" },
  instances: { type: "string", default: "1" },
  transport: { type: "string", default: "stream" },
  // The agent's report_interval_secs: this many collections (10 s apart) in each report.
  "collections-per-report": { type: "string", default: "1" },
} });
const perReport = Math.max(1, Math.floor(Number(values["collections-per-report"])));
const transport = values.transport;
if (transport !== "stream" && transport !== "unary") throw new Error(`--transport must be stream or unary, not ${transport}`);
const agents = Number(values.agents), seconds = Number(values.seconds), concurrency = Number(values.concurrency);
const instances = Number(values.instances);
// PM2's cluster master hands each new connection to the next instance and the load keeps its
// connections open, so every instance needs several of them to get a fair share of the load.
const channelCount = Math.max(Number(values.channels), 4 * instances);

const dir = mkdtempSync(path.join(tmpdir(), "tsmon-bench-"));
const { file, ports } = await writeServerConfig(dir, {
  extra: `[actors]\ningest_threads = ${values["ingest-threads"]}\ningest_queue = 4096\n`, logLevel: "warn",
});
const server = instances === 1 ? await startOneServer(file, ports) : await startPm2Cluster(dir, file, ports, instances);

const channels = openChannels(server.grpc, channelCount);
// As the agent sends: one ReportStream per connection (shapes for every simulated host), or one call per report.
const streams = channels.map((c) => new ReportStreamClient(c, { metadata: new grpc.Metadata(), maxShapes: agents }));

const hosts = Array.from({ length: agents }, (_, i) => new SimulatedHost(`bench-${i}`, i + 1));
/** Reports acknowledged per agent: the comparison replays exactly these. */
const acked = new Array<number>(agents).fill(0);
// Recent data, as agents send it (a day more than 6 h past its end takes the slower late
// path). Each report moves its agent 10 s on: at 1,000 agents and 1 M points/s that is
// 100 s of data a second, so the run starts 5 h back, and an agent stops short of the
// server's limit of 5 minutes ahead (a run that long says so, rather than count refusals).
const start = Date.now() - 5 * 3_600_000;
let outran = 0;
const nextReport = new Array<number>(agents).fill(0);
let points = 0, reports = 0, refused = 0;
const latencies: number[] = [];

const cpu0 = server.pids.map(processCpuSeconds);
const daemonCpu0 = server.daemonPid === undefined ? 0 : processCpuSeconds(server.daemonPid);
const t0 = performance.now();
const deadline = t0 + seconds * 1000;
let cursor = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (performance.now() < deadline) {
    const a = cursor++ % agents;
    if (start + nextReport[a]! * 10_000 > Date.now() + 4 * 60_000) {
      outran++;
      await new Promise((r) => setTimeout(r, 10)); // this agent has caught up with the clock
      continue;
    }
    // Each agent's reports go over one connection, as a real agent's do: under PM2 one
    // instance takes all of an agent's reports, and its window never replays the other's.
    const client = channels[a % channels.length]!;
    const stream = streams[a % streams.length]!;
    const batch = hosts[a]!.report(start + nextReport[a]!++ * 10_000, 10);
    for (let k = 1; k < perReport; k++) batch.points.push(...hosts[a]!.report(start + nextReport[a]!++ * 10_000, 10).points);
    const bytes = transport === "unary" ? encodeBatchProto(batch) : undefined;
    const sent = performance.now();
    const error = bytes ? await sendReport(client, bytes)
      : await stream.send(batch, 0, { deadline: Date.now() + 10_000 }).then((ack) => (ack.code === grpc.status.OK ? null : ack.message));
    if (error !== null) {
      if (refused++ === 0) console.error("first refused report:", error);
      continue;
    }
    acked[a]! += perReport;
    latencies.push(performance.now() - sent);
    reports++;
    points += batch.points.length;
  }
}));
const elapsed = (performance.now() - t0) / 1000;
const cpuEach = server.pids.map((pid, i) => processCpuSeconds(pid) - cpu0[i]!);
const rssEach = server.pids.map(processRssMb);
const daemonCpu = server.daemonPid === undefined ? 0 : processCpuSeconds(server.daemonPid) - daemonCpu0;
const cpu = sum(cpuEach), rss = sum(rssEach);
const windowDropped = await scrapeCounter(`http://127.0.0.1:${ports.http}`, "tsmon_window_reports_dropped_total");
for (const s of streams) s.close();
for (const c of channels) c.close();
await server.stop();
const tsmonBytes = dirBytes(path.join(dir, "data", "metrics"));
rmSync(dir, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const pct = (p: number) => quantile(latencies, p).toFixed(2);
console.log(`\nbench:ingest — ${agents} simulated agents, ~${Math.round(points / Math.max(1, reports))} points per report, ` +
  (perReport > 1 ? `${perReport} collections per report, ` : "") +
  `${transport === "unary" ? "unary ReportMetrics" : "ReportStream (columnar)"}, ${concurrency} in flight over ${channels.length} connections, ${seconds} s` +
  (instances > 1 ? `, ${instances} server instances (PM2 cluster)` : ""));
console.log(`machine: ${machineLine()}\n`);
printTable([
  ["reports acknowledged", String(reports)],
  ["reports refused", String(refused)],
  ...(outran ? [["reports not sent: the agent's next was over 4 min ahead (run shorter, or with more agents)", String(outran)] as [string, string]] : []),
  ["points/s", Math.round(points / elapsed).toLocaleString("en")],
  ["points per server CPU-second", Math.round(points / Math.max(cpu, 1e-9)).toLocaleString("en")],
  ["server CPU (all threads)", `${cpu.toFixed(1)} s over ${elapsed.toFixed(1)} s` + perInstance(cpuEach, 1, " s")],
  ...(server.daemonPid === undefined ? [] : [["PM2 daemon CPU (balancer; not in the figures above)", `${daemonCpu.toFixed(1)} s`] as [string, string]]),
  ["ack latency p50 / p99", `${pct(0.5)} ms / ${pct(0.99)} ms`],
  // Each dropped report costs its agent a read of storage at its next report: a window that keeps up drops none.
  [`reports the agent window dropped (read back from storage)${instances > 1 ? ", one instance" : ""}`, windowDropped],
  ["server RSS at end", `${rss.toFixed(0)} MB` + perInstance(rssEach, 0, " MB")],
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

interface RunningServers {
  grpc: string;
  /** Every server process, whose CPU and RSS are summed. */
  pids: number[];
  /** PM2's daemon under cluster mode: it accepts the connections and hands them to the instances. */
  daemonPid?: number;
  stop(): Promise<void>;
}

async function startOneServer(file: string, ports: { grpc: number; http: number }): Promise<RunningServers> {
  const server = await spawnServer(file, ports);
  return {
    grpc: server.grpc, pids: [server.child.pid!],
    async stop() {
      server.child.kill("SIGTERM");
      await server.exited;
    },
  };
}

/** `instances` servers under PM2 cluster mode, as test/pm2-cluster.test.ts starts them: a private PM2_HOME in `dir`. */
async function startPm2Cluster(dir: string, file: string, ports: { grpc: number; http: number }, instances: number): Promise<RunningServers> {
  const root = new URL("..", import.meta.url).pathname;
  const pm2Home = path.join(dir, "pm2");
  const env = { ...process.env, PM2_HOME: pm2Home, TSMON_SERVER_CONFIG: file, TSMON_INSTANCES: String(instances) };
  const bin = path.join(root, "node_modules/.bin/pm2");
  const pm2 = async (...args: string[]) => (await promisify(execFile)(bin, args, { env, maxBuffer: 64 << 20 })).stdout;
  let running = true;
  const stop = async () => {
    if (running) await pm2("kill").catch(() => undefined);
    running = false;
  };
  // PM2's daemon is detached: however else this script ends (an error, Ctrl-C), stop it here,
  // or it and the instances keep running. An "exit" listener has to do it synchronously.
  process.on("exit", () => {
    if (running) try { execFileSync(bin, ["kill"], { env, stdio: "ignore" }); } catch { /* already gone */ }
  });
  process.once("SIGINT", () => process.exit(130));
  await pm2("start", path.join(root, "ecosystem.config.cjs"), "--only", "tsmon-server");
  const answered = await waitForInstances(`http://127.0.0.1:${ports.http}/v1/health`, instances);
  const listed = (JSON.parse(await pm2("jlist")) as { name: string; pid: number }[]).filter((p) => p.name === "tsmon-server").map((p) => p.pid);
  // A restarted instance would have a new PID: measure exactly the processes that answered.
  if (listed.length !== instances || listed.some((pid) => !answered.has(pid))) {
    throw new Error(`pm2 jlist PIDs ${listed.join(", ")} are not the ones /v1/health answered from: ${[...answered].join(", ")}`);
  }
  return {
    grpc: `127.0.0.1:${ports.grpc}`, pids: listed, daemonPid: Number(readFileSync(path.join(pm2Home, "pm2.pid"), "utf8")),
    stop,
  };
}

/**
 * Polls GET /v1/health, each time over a new connection (so the cluster hands it to the next
 * instance), until `count` different PIDs have answered 200; returns them. gRPC binds before
 * HTTP listens, so an instance that answers also takes gRPC connections.
 */
async function waitForInstances(url: string, count: number): Promise<Set<number>> {
  const pids = new Set<number>();
  // Generous, as spawnServer: each instance compiles the server through tsx on a 2-core machine.
  const deadline = Date.now() + 90_000;
  while (pids.size < count) {
    if (Date.now() > deadline) throw new Error(`only ${pids.size} of ${count} PM2 instances answered ${url}`);
    const pid = await healthPid(url);
    if (pid === undefined) await sleep(100);
    else pids.add(pid);
  }
  return pids;
}

function healthPid(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    http.get(url, { agent: false }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve(res.statusCode === 200 ? (JSON.parse(text) as { pid: number }).pid : undefined));
    }).on("error", () => resolve(undefined));
  });
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** " (a + b)", each instance's share, when there are several instances. */
function perInstance(xs: number[], digits: number, unit: string): string {
  return xs.length > 1 ? ` (${xs.map((x) => x.toFixed(digits)).join(" + ")}${unit} per instance)` : "";
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

/** A counter's value from the server's /metrics (under PM2, whichever instance answers). */
async function scrapeCounter(origin: string, name: string): Promise<string> {
  try {
    const text = await (await adminFetch(`${origin}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    return new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? "not reported";
  } catch (err) {
    return `not read (${(err as Error).message})`;
  }
}
