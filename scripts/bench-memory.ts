import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { bigBurstEncoded, bigReportsInTurn } from "./lib/big-report.ts";
import { machineLine, printTable } from "./lib/machine.ts";
import { residentMiB, type ResidentMiB } from "./lib/process-memory.ts";
import { spawnServer, writeServerConfig } from "./lib/server-process.ts";
import { adminFetch } from "./lib/test-credentials.ts";
import { ALLOCATOR_ENV } from "../server/config/process-env.ts";

/*
 * `npm run bench:memory [-- --bursts 4 --after 90]`: what a server process keeps after
 * bursts of large reports (the shape of test/memory-bound.test.ts: 60 reports of ≈ 2.8 MB at
 * once from 10 agents, past `ingest_queue_bytes`). Samples resident memory (anonymous vs
 * file pages, /proc/PID/smaps_rollup) and the main thread's V8 heap (/metrics) before, at
 * the peak, after each burst and every 10 s after the last. The server runs with the
 * launchers' malloc settings (ALLOCATOR_ENV); `--no-allocator-env` runs it without them.
 */
const { values } = parseArgs({ options: {
  bursts: { type: "string", default: "4" },
  reports: { type: "string", default: "60" },
  after: { type: "string", default: "90" },
  "budget-mib": { type: "string", default: "16" },
  "no-allocator-env": { type: "boolean", default: false },
} });

const dir = mkdtempSync(path.join(tmpdir(), "tsmon-bench-memory-"));
const config = await writeServerConfig(dir, { extra: `[actors]\ningest_queue_bytes = ${Number(values["budget-mib"]) * 1024 * 1024}\n`, logLevel: "warn" });
const allocator: Record<string, string | undefined> = values["no-allocator-env"]
  ? Object.fromEntries(Object.keys(ALLOCATOR_ENV).map((k) => [k, undefined])) : ALLOCATOR_ENV;
const server = await spawnServer(config.file, config.ports, allocator);
const pid = server.child.pid!;
// Interrupted (Ctrl-C, a timeout): the server and its data dir go too.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}
const clients = Array.from({ length: 10 }, () => new grpc.Client(server.grpc, grpc.credentials.createInsecure(), { "grpc.max_send_message_length": 8 << 20 }));

/** The main thread's V8 heap and external memory in MiB (prom-client's default metrics). */
async function mainHeapMiB(): Promise<{ heap: number; external: number }> {
  const text = await (await adminFetch(`${server.http}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? NaN) / 1024 / 1024;
  return { heap: value("tsmon_nodejs_heap_size_total_bytes"), external: value("tsmon_nodejs_external_memory_bytes") };
}

const rows: [string, string][] = [];
let baseline: ResidentMiB | undefined;
async function record(label: string, at?: ResidentMiB): Promise<void> {
  const m = at ?? residentMiB(pid);
  baseline ??= m;
  const main = at ? undefined : await mainHeapMiB();
  const over = (x: number, b: number) => `${x.toFixed(0)} (${x - b >= 0 ? "+" : ""}${(x - b).toFixed(0)})`;
  rows.push([label, `RSS ${over(m.rss, baseline.rss).padEnd(12)} anon ${over(m.anon, baseline.anon).padEnd(12)} file ${over(m.file, baseline.file).padEnd(10)}` +
    (main ? ` main heap ${main.heap.toFixed(0)}, external ${main.external.toFixed(0)}` : "")]);
}

try {
  await sleep(2_000);
  await record("baseline");
  // What the series themselves cost (the agent window keeps every series it has seen): the
  // bursts store the same agents' series again, so this is the floor they can come back to.
  await bigReportsInTurn(clients[0]!, Date.now() - 700_000);
  await sleep(10_000);
  await record("same series sent one report at a time, 10 s later");
  let peak: ResidentMiB = residentMiB(pid);
  const tally = new Map<string, number>();
  for (let round = 0; round < Number(values.bursts); round++) {
    const sampler = setInterval(() => { const m = residentMiB(pid); if (m.anon > peak.anon) peak = m; }, 25);
    const codes = await bigBurstEncoded(clients, Number(values.reports), Date.now() - 600_000 + round * 1000);
    clearInterval(sampler);
    for (const c of codes) tally.set(grpc.status[c], (tally.get(grpc.status[c]) ?? 0) + 1);
    await record(`after burst ${round + 1}`);
  }
  await record("peak (anon) during bursts", peak);
  for (let s = 10; s <= Number(values.after); s += 10) {
    await sleep(10_000);
    await record(`${s} s after the last burst`);
  }
  const env = Object.entries(allocator).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(" ") || "no MALLOC_* env";
  console.log(`\nMemory after ${values.bursts} bursts of ${values.reports} reports (≈ 2.8 MB each), ingest_queue_bytes ${values["budget-mib"]} MiB, ${env}; MiB (change from baseline)`);
  console.log(`replies: ${[...tally].map(([k, n]) => `${k} ${n}`).join(", ")}; load average: ${execFileSync("uptime").toString().trim().replace(/.*load average: /, "")}`);
  console.log(machineLine());
  printTable(rows);
} finally {
  for (const c of clients) c.close();
  server.child.kill("SIGKILL");
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
