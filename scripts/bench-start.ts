import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { machineLine, printTable, processRssMb } from "./lib/machine.ts";
import { freePort } from "./lib/ports.ts";
// @ts-expect-error: a plain .mjs module without types
import { release } from "./release.mjs";

/*
 * `npm run bench:start [-- --runs 5]`: start time and resident memory of the server and the
 * agent, run from the checkout through tsx and from the release with plain node. Start time
 * is from spawn until /v1/health answers (server) or the "agent started" log line (agent);
 * RSS (whole process, worker threads included) is read 5 s after that, idle.
 */

const root = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({ options: { runs: { type: "string", default: "5" }, tarball: { type: "string" } } });
const RUNS = Number(values.runs);

const work = mkdtempSync(path.join(tmpdir(), "tsmon-bench-start-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

const tarball = values.tarball ?? (await release({ outDir: path.join(work, "dist") })).tarball;
await run("tar", ["-xzf", tarball, "-C", work]);
const releaseDir = path.join(work, readdirSync(work).find((d) => d.startsWith("tsmon-") && !d.endsWith(".gz"))!);

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => spawn(cmd, args, { stdio: "inherit" }).once("exit", (c) => (c === 0 ? resolve() : reject(new Error(`${cmd} exited ${c}`)))));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

interface Sample { startMs: number; rssMb: number }

async function measureServer(args: string[], cwd: string): Promise<Sample> {
  const dir = mkdtempSync(path.join(work, "server-"));
  const http = await freePort();
  const file = path.join(dir, "server.toml");
  writeFileSync(file, `bind_address = "127.0.0.1"\ngrpc_port = ${await freePort()}\nhttp_port = ${http}\ndata_dir = "${dir}/data"\nlog_level = "warn"\n[auth]\ndefault_password = "bench-password-1"\n`);
  const started = performance.now();
  const child = spawn(process.execPath, [...args, file], { cwd, stdio: "ignore" });
  try {
    while (!(await fetch(`http://127.0.0.1:${http}/v1/health`).then((r) => r.ok, () => false))) {
      if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode})`);
      await sleep(20);
    }
    const startMs = performance.now() - started;
    await sleep(5000);
    return { startMs, rssMb: processRssMb(child.pid!) };
  } finally {
    await stop(child);
  }
}

async function measureAgent(args: string[], cwd: string): Promise<Sample> {
  // No server needed: the agent starts, collects and buffers while it retries.
  const started = performance.now();
  const child = spawn(process.execPath, [...args, "--server-url", `127.0.0.1:${await freePort()}`, "--agent-id", "bench", "--log-format", "json"], { cwd, stdio: ["ignore", "pipe", "ignore"] });
  try {
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (c) => { out += c; if (out.includes("agent started")) resolve(); });
      child.once("exit", (c) => reject(new Error(`agent exited (${c})`)));
    });
    const startMs = performance.now() - started;
    await sleep(5000);
    return { startMs, rssMb: processRssMb(child.pid!) };
  } finally {
    await stop(child);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const variants: [string, () => Promise<Sample>][] = [
  ["server, checkout via tsx", () => measureServer(["--import", "tsx", path.join(root, "server/main.ts")], root)],
  ["server, release via node", () => measureServer([path.join(releaseDir, "bin/tsmon-server.js")], releaseDir)],
  ["agent, checkout via tsx", () => measureAgent(["--import", "tsx", path.join(root, "agent/main.ts")], root)],
  ["agent, release via node (bundle)", () => measureAgent([path.join(releaseDir, "bin/tsmon-agent.js")], releaseDir)],
];
if (!existsSync(path.join(releaseDir, "server/main.js"))) throw new Error("the release has no server/main.js");

const rows: [string, string][] = [];
for (const [name, once] of variants) {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await once());
  rows.push([name, `start ${median(samples.map((s) => s.startMs)).toFixed(0)} ms, RSS ${median(samples.map((s) => s.rssMb)).toFixed(1)} MB (median of ${RUNS})`]);
}
console.log(`\n${machineLine()}`);
printTable(rows);
