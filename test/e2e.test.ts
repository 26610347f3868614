import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { spawnServer, writeServerConfig } from "../scripts/lib/server-process.ts";
import { adminFetch, until } from "./helpers/server.ts";

const root = new URL("..", import.meta.url).pathname;

/** The reference's metric table (certificate.* comes from the server, not the agent). */
const REFERENCE_METRICS = [
  "cpu.usage", "cpu.core_usage",
  "memory.total", "memory.used", "memory.available", "memory.used_percent", "memory.swap_total", "memory.swap_used",
  "disk.total", "disk.used", "disk.available", "disk.used_percent",
  "network.bytes_sent", "network.bytes_recv", "network.packets_sent", "network.packets_recv",
  "load.load_1", "load.load_5", "load.load_15", "load.uptime",
];

test("a real agent process reports to a real server process; a server outage loses no batch", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-e2e-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { file, ports } = await writeServerConfig(dir);
  let server = await spawnServer(file, ports);
  t.teardown(() => { server.child.kill("SIGKILL"); });

  const agent = spawn(process.execPath, ["--import", "tsx", path.join(root, "agent/main.ts"),
    "--server-url", `127.0.0.1:${ports.grpc}`, "--interval", "1", "--agent-id", "e2e-host", "--spool-dir", path.join(dir, "spool")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let agentLog = "";
  agent.stdout.on("data", (c) => (agentLog += c));
  agent.stderr.on("data", (c) => (agentLog += c));
  const agentExit = new Promise<number | null>((resolve) => agent.on("exit", resolve));
  t.teardown(() => { agent.kill("SIGKILL"); });

  const api = server.http;
  const agents = await until("the agent to be listed", async () => {
    const list = await (await adminFetch(`${api}/v1/agents`)).json() as any[];
    return list.some((a) => a.agent_id === "e2e-host") ? list : undefined;
  });
  const listed = agents.find((a) => a.agent_id === "e2e-host");
  t.true(listed.active);
  t.is(listed.system_info.arch, process.arch);
  t.true(listed.system_info.cpuCores >= 1);

  // Rates need two collections; wait until every reference metric is there.
  const latest = await until("every reference metric in /latest", async () => {
    const values = await (await adminFetch(`${api}/v1/agents/e2e-host/latest`)).json() as any[];
    const names = new Set(values.map((v) => v.metric_name));
    return REFERENCE_METRICS.every((m) => names.has(m)) ? values : undefined;
  });
  const cores = latest.filter((v) => v.metric_name === "cpu.core_usage").map((v) => v.labels.core);
  t.true(cores.length >= 1 && cores.includes("0"), "per-core usage labelled by core");
  t.true(latest.filter((v) => v.metric_name === "disk.used_percent").every((v) => typeof v.labels.mount === "string"));
  t.true(latest.filter((v) => v.metric_name === "network.bytes_recv").every((v) => typeof v.labels.interface === "string" && v.value >= 0));
  if (/\b(sd[a-z]|vd[a-z]|nvme\d+n\d+|xvd[a-z])\b/.test(readFileSync("/proc/diskstats", "utf8"))) {
    t.true(latest.some((v) => v.metric_name === "disk.io_read_bytes" && v.labels.device), "disk I/O per device");
  }

  // Outage: the server goes away for 5 s (the agent buffers), comes back on the same ports and data.
  server.child.kill("SIGTERM");
  t.is(await server.exited, 0);
  const downAt = Date.now();
  await sleep(5_000);
  server = await spawnServer(file, ports);
  const upAt = Date.now();
  const series = await until("the buffered batches to arrive", async () => {
    const q = await (await adminFetch(`${server.http}/v1/metrics?agent=e2e-host&metric=cpu.usage&from=${downAt - 5_000}&to=${upAt + 60_000}`)).json() as any;
    const points: number[] = (q.series[0]?.points ?? []).map((p: number[]) => p[0]);
    return points.some((ts) => ts > upAt) ? points : undefined;
  });
  const gaps = series.slice(1).map((ts, i) => ts - series[i]!);
  t.true(Math.max(...gaps) < 2_500, `no batch of the outage is missing (largest gap ${Math.max(...gaps)} ms)`);
  t.true(series.filter((ts) => ts > downAt && ts < upAt).length >= 4, "batches collected while the server was down were delivered");

  agent.kill("SIGTERM");
  t.is(await agentExit, 0, agentLog.slice(-2000));
  server.child.kill("SIGTERM");
  t.is(await server.exited, 0);
});
