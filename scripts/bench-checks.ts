import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { machineLine, printTable, processCpuSeconds, processRssMb } from "./lib/machine.ts";

/*
 * `npm run bench:checks`: what 500 icmp and 500 tcp checks at a 10 s interval cost one
 * real agent process (agent/main.ts), against the same agent without checks. Everything
 * runs in a network namespace of its own (root needed): the targets are 127.x loopback
 * addresses there, which answer ICMP, and a TCP listener on 0.0.0.0 answers the tcp checks
 * without being reachable from outside.
 */

const ICMP_TARGETS = Number(process.env.BENCH_ICMP ?? 500);
const TCP_TARGETS = Number(process.env.BENCH_TCP ?? 500);
const INTERVAL_SECS = 10;
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP_ROUNDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const TCP_PORT = 7000;
const SEMI_SPACE_FLAG = "--max-semi-space-size=2";
const root = fileURLToPath(new URL("..", import.meta.url));
const ns = `tsmbench${process.pid}`;
const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-bench-checks-"));

/** The i-th target address: 127.<base>.x.y, never .0 or .255. */
function address(base: number, i: number): string {
  return `127.${base}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

function agentToml(withChecks: boolean): string {
  const head = `agent_id = "bench-checks"\nserver_endpoint = "127.0.0.1:1"\nspool_dir = "${path.join(dir, withChecks ? "spool-checks" : "spool-idle")}"\ncheck_concurrency = ${CONCURRENCY}\n`;
  if (!withChecks) return head;
  const icmp = Array.from({ length: ICMP_TARGETS }, (_, i) => `[[checks]]\nname = "icmp-${i}"\ntype = "icmp"\ntarget = "${address(1, i)}"\ninterval_secs = ${INTERVAL_SECS}\n`);
  const tcp = Array.from({ length: TCP_TARGETS }, (_, i) => `[[checks]]\nname = "tcp-${i}"\ntype = "tcp"\ntarget = "${address(2, i)}"\nport = ${TCP_PORT}\ninterval_secs = ${INTERVAL_SECS}\n`);
  return [head, ...icmp, ...tcp].join("\n");
}

interface Figures { cpuMsPerRound: number; corePercent: number; rssMeanMb: number; rssMaxMb: number }

/** Starts the agent in the namespace (with `nodeFlags`), lets it warm up, then measures `ROUNDS` intervals. */
async function measureAgent(withChecks: boolean, nodeFlags: string[] = []): Promise<Figures> {
  const configFile = path.join(dir, withChecks ? "checks.toml" : "idle.toml");
  writeFileSync(configFile, agentToml(withChecks));
  const agent = spawn("ip", ["netns", "exec", ns, process.execPath, ...nodeFlags, "--import", "tsx", path.join(root, "agent/main.ts"), configFile, "--log-format", "json"],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  try {
    await sleep(1000);
    const pid = agentPid(agent);
    await sleep(WARMUP_ROUNDS * INTERVAL_SECS * 1000);
    const cpu0 = processCpuSeconds(pid);
    const t0 = performance.now();
    const rss: number[] = [];
    for (let s = 0; s < ROUNDS * INTERVAL_SECS; s++) {
      await sleep(1000);
      rss.push(processRssMb(pid));
    }
    const cpuSecs = processCpuSeconds(pid) - cpu0;
    const wallSecs = (performance.now() - t0) / 1000;
    return {
      cpuMsPerRound: (cpuSecs * 1000) / ROUNDS,
      corePercent: (100 * cpuSecs) / wallSecs,
      rssMeanMb: rss.reduce((a, b) => a + b, 0) / rss.length,
      rssMaxMb: Math.max(...rss),
    };
  } finally {
    agent.kill("SIGTERM");
    await new Promise((resolve) => agent.once("exit", resolve));
  }
}

/** `ip netns exec` execs node in place, so the child's pid is the agent's. */
function agentPid(child: ChildProcess): number {
  if (!child.pid || child.exitCode !== null) throw new Error("the agent did not start; see its output above");
  return child.pid;
}

try {
  execFileSync("ip", ["netns", "add", ns], { stdio: "pipe" });
} catch (err) {
  console.error(`bench:checks needs root and iproute2 (\`ip netns add\` failed: ${(err as { stderr?: Buffer }).stderr?.toString().trim()})`);
  process.exit(1);
}
let listener: ChildProcess | undefined;
try {
  execFileSync("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
  listener = spawn("ip", ["netns", "exec", ns, process.execPath, "-e",
    `require("node:net").createServer((s) => s.destroy()).listen(${TCP_PORT}, "0.0.0.0", () => console.log("listening"))`], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve) => listener!.stdout!.once("data", resolve));
  console.log(`bench:checks: ${ICMP_TARGETS} icmp + ${TCP_TARGETS} tcp targets every ${INTERVAL_SECS} s (check_concurrency ${CONCURRENCY}), ` +
    `${WARMUP_ROUNDS} rounds warm-up, ${ROUNDS} measured`);
  console.log(machineLine());
  const idle = await measureAgent(false);
  const busy = await measureAgent(true);
  // The checks' garbage makes V8 grow its young generation to ~48 MB; capped, it stays small.
  const capped = await measureAgent(true, [SEMI_SPACE_FLAG]);
  const row = (f: Figures): string => `${f.cpuMsPerRound.toFixed(0).padStart(6)} ms/round  ${f.corePercent.toFixed(2).padStart(5)} % of a core  RSS ${f.rssMeanMb.toFixed(1)} MB (max ${f.rssMaxMb.toFixed(1)})`;
  const aboveIdle = (f: Figures): string => `${(f.cpuMsPerRound - idle.cpuMsPerRound).toFixed(0).padStart(6)} ms/round  ${(f.corePercent - idle.corePercent).toFixed(2).padStart(5)} % of a core  ` +
    `RSS +${(f.rssMeanMb - idle.rssMeanMb).toFixed(1)} MB (max +${(f.rssMaxMb - idle.rssMeanMb).toFixed(1)})`;
  printTable([
    ["agent, no checks", row(idle)],
    [`agent, ${ICMP_TARGETS + TCP_TARGETS} checks`, row(busy)],
    ["  the checks' share", aboveIdle(busy)],
    [`same, node ${SEMI_SPACE_FLAG}`, row(capped)],
    ["  the checks' share", aboveIdle(capped)],
    ["target", "≤ 2 % of a core, ≤ 10 MB above idle"],
  ]);
} finally {
  listener?.kill();
  execFileSync("ip", ["netns", "del", ns]);
  rmSync(dir, { recursive: true, force: true });
}
