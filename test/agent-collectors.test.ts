import test from "ava";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { MetricPoint } from "../common/metrics.ts";
import { collectBatch } from "../agent/collect-batch.ts";
import { createCpuCollector } from "../agent/collectors/cpu.ts";
import { createLinuxCollectors } from "../agent/collectors/default-collectors.ts";
import { createDiskCollector } from "../agent/collectors/disk.ts";
import { createNetworkCollector } from "../agent/collectors/network.ts";
import { parseDiskstats } from "../agent/proc/parse-diskstats.ts";
import { parseNetDev } from "../agent/proc/parse-net-dev.ts";
import { countChildProcesses } from "../agent/spawn-counter.ts";
import { readSystemInfo } from "../agent/system-info.ts";

const fixtures = new URL("../agent/proc/fixtures/", import.meta.url).pathname;
const dirs: string[] = [];
test.after.always(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fake /proc whose files are swapped between collections. */
function fakeProc() {
  const root = mkdtempSync(path.join(os.tmpdir(), "tsmon-proc-"));
  dirs.push(root);
  mkdirSync(path.join(root, "net"));
  mkdirSync(path.join(root, "self"));
  return { root, put: (fixture: string, as: string) => copyFileSync(path.join(fixtures, fixture), path.join(root, as)) };
}

const by = (points: MetricPoint[], metric: string) => points.filter((p) => p.metric === metric);

test("cpu collector: usage since the baseline taken at construction, repeated when no tick elapsed", (t) => {
  const proc = fakeProc();
  proc.put("stat-a.txt", "stat");
  const cpu = createCpuCollector({ procRoot: proc.root });
  proc.put("stat-b.txt", "stat");
  const first = cpu.collect(1000) as MetricPoint[];
  t.deepEqual(first.map((p) => [p.metric, p.labels, p.value, p.timestampMs]), [
    ["cpu.usage", {}, 55, 1000],
    ["cpu.core_usage", { core: "0" }, 88.24, 1000],
    ["cpu.core_usage", { core: "1" }, 36.84, 1000],
  ]);
  const again = cpu.collect(2000) as MetricPoint[];
  t.deepEqual(again.map((p) => p.value), [55, 88.24, 36.84]);
});

test("network collector: rates from the first collection, with an injected clock", (t) => {
  const proc = fakeProc();
  let clock = 0;
  proc.put("net-dev-a.txt", "net/dev");
  const network = createNetworkCollector({ procRoot: proc.root, monotonicMs: () => clock });
  proc.put("net-dev-b.txt", "net/dev");
  clock = 10_000;
  const points = network.collect(5) as MetricPoint[];
  t.deepEqual(points.filter((p) => p.labels.interface === "eth0").map((p) => [p.metric, p.value]), [
    ["network.bytes_sent", 1000], ["network.bytes_recv", 2000], ["network.packets_sent", 2], ["network.packets_recv", 4],
  ]);
  t.deepEqual([...new Set(points.map((p) => p.labels.interface))], ["lo", "eth0"]);
  // tun0 appeared in b: it has a baseline now and a rate next time.
  clock = 20_000;
  t.deepEqual([...new Set((network.collect(6) as MetricPoint[]).map((p) => p.labels.interface))], ["lo", "eth0", "wlan0", "tun0"]);
});

test("disk collector: file bind mounts, zero-size and failing file systems are left out", async (t) => {
  const proc = fakeProc();
  proc.put("mounts-container.txt", "self/mounts");
  const disk = createDiskCollector({
    procRoot: proc.root,
    isDirectory: async (p) => !p.startsWith("/etc/"),
    statfs: async (p) => (p === "/" ? { bsize: 4096, blocks: 1000, bfree: 400, bavail: 300 } : { bsize: 4096, blocks: 0, bfree: 0, bavail: 0 }),
  });
  const points = await disk.collect(7);
  t.deepEqual(points.map((p) => [p.metric, p.labels.mount, p.value]), [
    ["disk.total", "/", 4_096_000], ["disk.used", "/", 2_457_600], ["disk.available", "/", 1_228_800], ["disk.used_percent", "/", 66.67],
  ]);

  const failing = createDiskCollector({ procRoot: proc.root, isDirectory: async () => true, statfs: async () => { throw new Error("EACCES"); } });
  t.deepEqual(await failing.collect(8), []);
});

test("disk collector: a statfs that hangs is skipped after its timeout and not asked again while pending", async (t) => {
  const proc = fakeProc();
  proc.put("mounts.txt", "self/mounts");
  const calls = new Map<string, number>();
  const disk = createDiskCollector({
    procRoot: proc.root,
    statfsTimeoutMs: 50,
    isDirectory: async () => true,
    statfs: (p) => {
      calls.set(p, (calls.get(p) ?? 0) + 1);
      return p === "/mnt/nfs" ? new Promise(() => {}) : Promise.resolve({ bsize: 1024, blocks: 100, bfree: 50, bavail: 50 });
    },
  });
  const first = await disk.collect(1);
  const second = await disk.collect(2);
  for (const points of [first, second]) {
    t.deepEqual([...new Set(points.map((p) => p.labels.mount))], ["/", "/boot/efi", "/home", "/mnt/my data"]);
  }
  t.is(calls.get("/mnt/nfs"), 1);
  t.is(calls.get("/"), 2);
});

test("collectBatch: one timestamp for all points; a throwing collector is reported and skipped", async (t) => {
  const errors: string[] = [];
  const batch = await collectBatch([
    { name: "ok", collect: (now) => [{ timestampMs: now, metric: "a", value: 1, labels: {} }] },
    { name: "sloppy", collect: () => [{ timestampMs: 1, metric: "b", value: 2, labels: {} }] },
    { name: "broken", collect: () => { throw new Error("boom"); } },
    { name: "rejecting", collect: async () => { throw new Error("async boom"); } },
  ], { agentId: "a1", timestampMs: 42, onError: (name) => errors.push(name) });
  t.deepEqual(batch, {
    agentId: "a1", timestampMs: 42,
    points: [{ timestampMs: 42, metric: "a", value: 1, labels: {} }, { timestampMs: 42, metric: "b", value: 2, labels: {} }],
  });
  t.deepEqual(errors.sort(), ["broken", "rejecting"]);
  t.is(await collectBatch([{ name: "x", collect: () => [] }], { agentId: "a1", timestampMs: 1, onError: () => {} }), undefined);
});

test("on this machine: every metric of the reference table, per core, mount, interface and device, and no child process", async (t) => {
  if (process.platform !== "linux") return t.pass("Linux only");
  const spawns = countChildProcesses();
  try {
    const collectors = createLinuxCollectors();
    await sleep(300);
    const errors: unknown[] = [];
    const batch = (await collectBatch(collectors, { agentId: "smoke", timestampMs: Date.now(), onError: (_, e) => errors.push(e) }))!;
    t.deepEqual(errors, []);
    const points = batch.points;
    for (const p of points) t.true(Number.isFinite(p.value) && p.value >= 0, `${p.metric} ${JSON.stringify(p.labels)} = ${p.value}`);

    t.is(by(points, "cpu.usage").length, 1);
    const cores = by(points, "cpu.core_usage").map((p) => p.labels.core);
    t.deepEqual(cores, Array.from({ length: cores.length }, (_, i) => String(i)));
    t.is(cores.length, os.cpus().length);
    for (const p of [...by(points, "cpu.usage"), ...by(points, "cpu.core_usage")]) t.true(p.value <= 100);

    for (const m of ["total", "used", "available", "used_percent", "swap_total", "swap_used"]) t.is(by(points, `memory.${m}`).length, 1, m);
    t.is(by(points, "memory.total")[0]!.value, os.totalmem());

    const mounts = by(points, "disk.total").map((p) => p.labels.mount);
    t.true(mounts.length > 0);
    for (const m of ["total", "used", "available", "used_percent"]) t.deepEqual(by(points, `disk.${m}`).map((p) => p.labels.mount), mounts, m);

    const interfaces = [...parseNetDev(readFileSync("/proc/net/dev", "latin1")).keys()];
    for (const m of ["bytes_sent", "bytes_recv", "packets_sent", "packets_recv"]) {
      t.deepEqual(by(points, `network.${m}`).map((p) => p.labels.interface).sort(), [...interfaces].sort(), m);
    }
    const devices = [...parseDiskstats(readFileSync("/proc/diskstats", "latin1")).keys()];
    for (const m of ["io_read_bytes", "io_write_bytes"]) t.deepEqual(by(points, `disk.${m}`).map((p) => p.labels.device).sort(), [...devices].sort(), m);

    for (const m of ["load_1", "load_5", "load_15", "uptime"]) t.is(by(points, `load.${m}`).length, 1, m);
    t.true(by(points, "load.uptime")[0]!.value > 0);

    const info = await readSystemInfo();
    t.like(info, { hostname: os.hostname(), arch: os.arch(), cpuCores: os.cpus().length, memoryTotal: os.totalmem() });
    t.true(info.diskTotal > 0 && info.os.length > 0 && /^\d+\.\d+\.\d+/.test(info.agentVersion));
    t.is(spawns.count(), 0);
    // systeminformation is for other platforms: a Linux agent never loads it.
    t.false(Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes("/systeminformation/")));
  } finally {
    spawns.restore();
  }
});
