import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { countChildProcesses } from "../agent/spawn-counter.ts";
import { machineLine, processCpuSeconds, processRssMb } from "./lib/machine.ts";
import { freePort } from "./lib/ports.ts";

/*
 * `npm run bench:agent`: what one collection costs the agent on this machine, against
 * the same metrics read through systeminformation, and how much memory a real agent
 * process holds. Child processes are counted from here on, before anything that could
 * spawn is loaded; the collectors and systeminformation are imported dynamically below.
 */

const spawns = countChildProcesses();
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const SI_RUNS = Number(process.env.BENCH_SI_RUNS ?? 15);
const root = fileURLToPath(new URL("..", import.meta.url));

interface Cost { cpuMean: number; cpuP99: number; wallMean: number; children: number }

/** CPU of this process (all threads, children excluded), and of reaped children, in ms. */
function cpuNow(): { self: number; children: number } {
  const u = process.cpuUsage();
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // cutime + cstime (fields 16 and 17 of stat), in clock ticks of 10 ms.
  return { self: (u.user + u.system) / 1000, children: (Number(f[13]) + Number(f[14])) * 10 };
}

/** Runs `collect` `runs` times, `gapMs` apart (so rates have an interval), measuring each. */
async function measure(runs: number, collect: () => Promise<unknown>, gapMs = 5): Promise<Cost & { childCpuMean: number }> {
  const cpu: number[] = [];
  let wall = 0;
  const spawnedBefore = spawns.count();
  const childCpuBefore = cpuNow().children;
  for (let i = 0; i < runs; i++) {
    await sleep(gapMs);
    const start = cpuNow().self;
    const t0 = performance.now();
    await collect();
    wall += performance.now() - t0;
    cpu.push(cpuNow().self - start);
  }
  cpu.sort((a, b) => a - b);
  return {
    cpuMean: cpu.reduce((s, x) => s + x, 0) / runs,
    cpuP99: cpu[Math.min(runs - 1, Math.ceil(runs * 0.99) - 1)]!,
    wallMean: wall / runs,
    children: (spawns.count() - spawnedBefore) / runs,
    childCpuMean: (cpuNow().children - childCpuBefore) / runs,
  };
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const rows: string[][] = [];
const fmt = (x: number, digits = 2) => x.toFixed(digits);

// 1. The /proc collectors, as the agent runs them (all six in parallel into one batch).
const rssStart = rssMb();
const { createLinuxCollectors } = await import("../agent/collectors/default-collectors.ts");
const { collectBatch } = await import("../agent/collect-batch.ts");
const collectors = createLinuxCollectors();
const full = () => collectBatch(collectors, { agentId: "bench", timestampMs: Date.now(), onError: (n, e) => { throw new Error(`${n}: ${e}`); } });
const sample = await full();
// Warm up until the JIT has settled, as in an agent that has run for a while.
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
await measure(WARMUP, full, 1);
const proc = await measure(RUNS, full);
const rssProc = rssMb();
rows.push(["/proc collectors (agent)", `${RUNS}`, fmt(proc.cpuMean, 3), fmt(proc.cpuP99, 3), fmt(proc.wallMean, 3), fmt(proc.children), fmt(proc.childCpuMean), fmt(rssProc, 1)]);

// 2. The same metrics through systeminformation (what the design card suggested).
const si = await import("systeminformation");
const siCalls: [string, () => Promise<unknown>][] = [
  ["currentLoad", () => si.currentLoad()],
  ["mem", () => si.mem()],
  ["fsSize", () => si.fsSize()],
  ["networkStats", () => si.networkStats("*")],
  ["fsStats", () => si.fsStats()],
  ["disksIO", () => si.disksIO()],
];
const siFull = () => Promise.all(siCalls.map(([, call]) => call()));
// systeminformation answers from a cache when asked again within 500 ms: space the runs
// 1.1 s apart so that every run does the real work, as an agent's would every 10 s.
const SI_GAP_MS = 1100;
await measure(2, siFull, SI_GAP_MS);
const siCost = await measure(SI_RUNS, siFull, SI_GAP_MS);
rows.push(["systeminformation, same metrics", `${SI_RUNS}`, fmt(siCost.cpuMean, 3), fmt(siCost.cpuP99, 3), fmt(siCost.wallMean, 3), fmt(siCost.children), fmt(siCost.childCpuMean), fmt(rssMb(), 1)]);
const perCall = siCalls.map(() => ({ cpu: [] as number[], wall: 0, children: 0, childCpu: 0 }));
for (let run = 0; run < SI_RUNS; run++) {
  await sleep(SI_GAP_MS);
  for (const [i, [, call]] of siCalls.entries()) {
    const m = await measure(1, call, 0);
    perCall[i]!.cpu.push(m.cpuMean);
    perCall[i]!.wall += m.wallMean;
    perCall[i]!.children += m.children;
    perCall[i]!.childCpu += m.childCpuMean;
  }
}
siCalls.forEach(([name], i) => {
  const c = perCall[i]!;
  c.cpu.sort((a, b) => a - b);
  rows.push([`  si.${name}`, `${SI_RUNS}`, fmt(c.cpu.reduce((s, x) => s + x, 0) / SI_RUNS, 3), fmt(c.cpu.at(-1)!, 3),
    fmt(c.wall / SI_RUNS, 3), fmt(c.children / SI_RUNS), fmt(c.childCpu / SI_RUNS), ""]);
});
spawns.restore();

// 3. A real agent process reporting to a port nobody listens on: as `npm run agent` starts
// it (tsx), and as deployed, the bundle of `npm run build:agent` run by plain node.
const AGENT_SECS = Number(process.env.BENCH_AGENT_SECS ?? 15);
/** What a deployed agent may hold resident (VmRSS), per the agent's design goal. */
const RSS_TARGET_MB = 55;

interface ProcessFigures { rss: number; peak: number; cpu: number; threads: number; children: string[]; exitCode: number | null }

async function runAgentProcess(nodeArgs: string[], cwd: string, agentArgs = true): Promise<ProcessFigures> {
  const port = await freePort();
  // The spool is on disk: a temporary one, deleted once the agent has exited.
  const spoolDir = mkdtempSync(path.join(os.tmpdir(), "tsmon-bench-spool-"));
  const args = agentArgs ? ["--server-url", `127.0.0.1:${port}`, "--interval", "1", "--agent-id", "bench", "--spool-dir", spoolDir] : [];
  const agent = spawn(process.execPath, [...nodeArgs, ...args],
    { cwd, stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise<number | null>((resolve) => agent.on("exit", (code) => resolve(code)));
  await sleep(AGENT_SECS * 1000);
  const pid = agent.pid!;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const tasks = readdirSync(`/proc/${pid}/task`);
  const children = tasks.flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean))
    .map((child) => { try { return readFileSync(`/proc/${child}/comm`, "utf8").trim(); } catch { return child; } });
  const figures = {
    rss: processRssMb(pid),
    peak: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024,
    cpu: processCpuSeconds(pid),
    threads: tasks.length,
    children,
  };
  agent.kill("SIGTERM");
  const exitCode = await exited;
  rmSync(spoolDir, { recursive: true, force: true });
  return { ...figures, exitCode };
}

/** Newest modification time (ms) of the files under `dirs`. */
function newestMtimeMs(dirs: string[]): number {
  let newest = 0;
  for (const dir of dirs) {
    for (const file of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
      newest = Math.max(newest, statSync(path.join(dir, file)).mtimeMs);
    }
  }
  return newest;
}

/** dist/tsmon-agent.mjs, built first when missing or older than what goes into it. */
function agentBundle(): string {
  const entry = path.join(root, "dist/tsmon-agent.mjs");
  const sources = newestMtimeMs([path.join(root, "agent"), path.join(root, "common")]);
  // The build script and package.json (the version written in) go into it too.
  const inputs = Math.max(sources, ...["scripts/build-agent.mjs", "package.json"].map((f) => statSync(path.join(root, f)).mtimeMs));
  if (!existsSync(entry) || statSync(entry).mtimeMs < inputs) {
    execFileSync(process.execPath, [path.join(root, "scripts/build-agent.mjs")], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  }
  return entry;
}

// The three processes run side by side: memory is what is compared, and it saves time.
const bundle = agentBundle();
const [viaTsx, viaBundle, idle] = await Promise.all([
  runAgentProcess(["--import", "tsx", "agent/main.ts"], root),
  runAgentProcess([path.relative(root, bundle)], root),
  runAgentProcess(["-e", "setInterval(() => {}, 1000)"], root, false),
]);

console.log(`\ntsmon agent benchmark — ${machineLine()}`);
console.log(`CPU ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}, kernel ${os.release()}`);
console.log(`One full collection: ${sample?.points.length} points (${[...new Set(sample?.points.map((p) => p.metric))].length} metric names); /proc runs 5 ms apart after ${WARMUP} warm-up runs.\n`);
const header = ["collection", "runs", "CPU ms mean", "CPU ms p99", "wall ms mean", "children/coll.", "child CPU ms", "bench RSS MB"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => "  " + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
console.log(line(header));
console.log("  " + widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
console.log(`
  CPU: process.cpuUsage (user + system, all threads of this process) around each collection. Child
  CPU: cutime + cstime of /proc/self/stat (10 ms ticks, averaged). Children: direct children only (a
  shell pipeline such as lsblk | grep starts more). systeminformation runs are 1.1 s apart: asked
  again within 500 ms it answers from a cache. RSS of this bench process: ${fmt(rssStart, 1)} MB at start,
  ${fmt(rssProc, 1)} MB after the /proc runs, then systeminformation was loaded.

  Agent process, interval 1 s, no server listening, measured after ${AGENT_SECS} s:`);
const processRows: [string, ProcessFigures][] = [
  ["node --import tsx agent/main.ts (dev)", viaTsx],
  ["node dist/tsmon-agent.mjs (bundle)", viaBundle],
  ["node -e 'setInterval(...)' (empty Node)", idle],
];
for (const [label, f] of processRows) {
  console.log(`    ${label.padEnd(42)} VmRSS ${fmt(f.rss, 1).padStart(6)} MB  peak ${fmt(f.peak, 1).padStart(6)} MB  CPU ${fmt(f.cpu, 2)} s  ` +
    `threads ${f.threads}  children ${f.children.length ? f.children.join(",") : 0}  exit ${f.exitCode}`);
}
const verdict = viaBundle.rss <= RSS_TARGET_MB ? "meets" : "MISSES";
console.log(`\n  The bundle ${verdict} the ${RSS_TARGET_MB} MB target: VmRSS ${fmt(viaBundle.rss, 1)} MB after ${AGENT_SECS} s ` +
  `(${fmt(viaBundle.rss - idle.rss, 1)} MB above an empty Node process).`);
console.log("");
