import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SimulatedHost } from "../scripts/lib/agent-shape.ts";
import { bucketGrid, toGridColumns } from "../server/query/bucket-grid.ts";
import { fleetBuckets } from "../server/query/fleet.ts";
import { compactDay } from "../server/storage/compaction.ts";
import { DAY_MS, dayOf, dayStartMs } from "../server/storage/days.ts";
import { MetricStore } from "../server/storage/metric-store.ts";
import { PartitionSet } from "../server/storage/partitions.ts";

/*
 * The fleet read's quick path (grid-read.ts) against the general one (bucketsOf): the same
 * buckets to the last bit over chunks, the raw tail, hour and day edges and odd steps; and
 * where it cannot be sure (a late report, a sealed day) it hands the agent to the general
 * read, so fleet replies stay equal to what /v1/metrics?step gives each agent.
 */

const now = Date.parse("2026-12-03T00:20:00Z"); // 20 minutes into the day: ranges cross midnight
const METRICS = ["cpu.usage", "memory.used_percent", "disk.used_percent", "network.bytes_recv", "cpu.core_usage"];

async function fleetStore(t: import("ava").ExecutionContext) {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-grid-"));
  const partitions = new PartitionSet(dir);
  const store = new MetricStore(partitions, () => now);
  t.teardown(async () => { await partitions.closeAll(); rmSync(dir, { recursive: true, force: true }); });
  const hosts = [1, 2, 3].map((i) => new SimulatedHost(`grid-${i}`, i, { cores: 2, mounts: 2, interfaces: 2, devices: 1 }));
  // Two hours and a half at 10 s, each agent offset within the interval; compacted as it goes,
  // the last minutes left raw (the tail a compaction has not reached yet).
  const first = now - 9_000_000;
  for (let ts = first; ts <= now; ts += 10_000) {
    for (const [i, h] of hosts.entries()) await store.write(h.agentId, h.report(ts + i * 1_700, 10).points);
    if ((ts - first) % 1_200_000 === 0) for (const day of partitions.files.rawDays()) await compactDay(partitions, day);
  }
  return { partitions, store, agents: hosts.map((h) => h.agentId) };
}

/** Each agent's buckets the general way, in the fleet reply's shape. */
function general(store: MetricStore, agents: readonly string[], metrics: readonly string[], fromMs: number, toMs: number, stepMs: number) {
  const grid = bucketGrid(fromMs, toMs, stepMs);
  return agents.flatMap((agentId) => store.bucketsOf(agentId, metrics, fromMs, toMs, stepMs).map((s) =>
    ({ agent_id: agentId, metric: s.metric, labels: s.labels, ...toGridColumns(s.buckets, grid[0]!, stepMs, grid.length) })));
}

const READS = [
  { what: "the last hour at step 60", from: now - 3_600_000, to: now, step: 60_000 },
  { what: "15 min at step 30", from: now - 900_000, to: now, step: 30_000 },
  { what: "2.5 h at step 7 s (buckets across hour and day edges)", from: now - 9_000_000, to: now, step: 7_000 },
  { what: "an inner range with ragged ends at step 90", from: now - 5_000_123, to: now - 1_000_077, step: 90_000 },
  { what: "a range past the data", from: now - 600_000, to: now + 600_000, step: 60_000 },
];

test("the quick path gives the general path's buckets bit for bit, over chunks and the raw tail, across hour and day edges", async (t) => {
  const { store, agents } = await fleetStore(t);
  for (const r of READS) {
    const grid = bucketGrid(r.from, r.to, r.step);
    for (const agentId of agents) {
      t.truthy(store.gridOf(agentId, METRICS, r.from, r.to, { startMs: grid[0]!, stepMs: r.step, length: grid.length }), `${r.what}: ${agentId} read quickly`);
    }
    const fleet = fleetBuckets(store, { agentIds: agents, metrics: METRICS, fromMs: r.from, toMs: r.to, stepMs: r.step });
    t.deepEqual(fleet.timestamps, grid);
    t.deepEqual(fleet.series, general(store, agents, METRICS, r.from, r.to, r.step), r.what);
    // Per agent: cpu.usage, memory.used_percent, two mounts, two interfaces, two cores.
    t.is(fleet.series.length, agents.length * 8, r.what);
  }
  const avgOnly = fleetBuckets(store, { agentIds: agents, metrics: ["cpu.usage"], fromMs: now - 900_000, toMs: now, stepMs: 30_000, fields: ["avg"] });
  t.deepEqual(avgOnly.series.map((s) => Object.keys(JSON.parse(JSON.stringify(s)) as object).sort()), agents.map(() => ["agent_id", "avg", "labels", "metric"]), "only avg is sent");
  t.deepEqual(avgOnly.series.map((s) => s.avg), general(store, agents, ["cpu.usage"], now - 900_000, now, 30_000).map((s) => s.avg));
  const filtered = fleetBuckets(store, { agentIds: agents, metrics: ["disk.used_percent"], fromMs: now - 900_000, toMs: now, stepMs: 30_000, labels: { mount: "/" } });
  t.deepEqual(filtered.series.map((s) => s.labels), agents.map(() => ({ mount: "/" })));
});

test("a late report inside a compacted hour, a retried one and a sealed day send the agent to the general read, with the same answer", async (t) => {
  const { partitions, store, agents } = await fleetStore(t);
  const [late, retried, plain] = agents as [string, string, string];
  const r = READS[0]!;
  const grid = bucketGrid(r.from, r.to, r.step);
  const spec = { startMs: grid[0]!, stepMs: r.step, length: grid.length };
  // A report for 40 minutes ago arrives now (raw, behind the compacted chunk); another agent's last report again.
  await store.write(late, [{ timestampMs: now - 2_400_000 + 3, metric: "cpu.usage", value: 99.5, labels: {} }]);
  const last = store.query(retried, "cpu.usage", now - 120_000, now - 60_000)[0]!.points.at(-1)!;
  await store.write(retried, [{ timestampMs: last[0], metric: "cpu.usage", value: 1.25, labels: {} }]);
  t.is(store.gridOf(late, ["cpu.usage"], r.from, r.to, spec), undefined, "a late point behind its compacted hour: the general read");
  t.deepEqual(fleetBuckets(store, { agentIds: agents, metrics: ["cpu.usage"], fromMs: r.from, toMs: r.to, stepMs: r.step }).series, general(store, agents, ["cpu.usage"], r.from, r.to, r.step));
  for (const day of partitions.files.rawDays()) await compactDay(partitions, day); // the late one is now inside its chunk: quick again
  await store.write(retried, [{ timestampMs: last[0], metric: "cpu.usage", value: 2.5, labels: {} }]); // a correction in the raw tail
  t.truthy(store.gridOf(late, ["cpu.usage"], r.from, r.to, spec), "compacted into its hour, the late point reads quickly");
  t.is(store.gridOf(retried, ["cpu.usage"], r.from, r.to, spec), undefined, "an instant in both chunk and raw tail: the general read");
  t.truthy(store.gridOf(plain, ["cpu.usage"], r.from, r.to, spec));
  const fleet = fleetBuckets(store, { agentIds: agents, metrics: ["cpu.usage"], fromMs: r.from, toMs: r.to, stepMs: r.step });
  t.deepEqual(fleet.series, general(store, agents, ["cpu.usage"], r.from, r.to, r.step));
  t.true(fleet.series.find((s) => s.agent_id === late)!.max!.includes(99.5));
  const bucket = Math.floor((last[0] - grid[0]!) / r.step);
  t.is(fleet.series.find((s) => s.agent_id === retried)!.min![bucket], 2.5, "the correction, read once");
  t.is(fleet.series.find((s) => s.agent_id === retried)!.count![bucket], store.query(retried, "cpu.usage", grid[bucket]!, grid[bucket]! + r.step - 1)[0]!.points.length);

  // Yesterday sealed: a range that reaches into it is read the general way (rollups, sealed columns).
  const yesterday = dayOf(now - DAY_MS);
  await compactDay(partitions, yesterday);
  await new MetricStore(partitions, () => now + DAY_MS).seal(yesterday);
  const across = { from: dayStartMs(dayOf(now)) - 1_800_000, to: now, step: 60_000 };
  const acrossGrid = bucketGrid(across.from, across.to, across.step);
  t.is(store.gridOf(plain, ["cpu.usage"], across.from, across.to, { startMs: acrossGrid[0]!, stepMs: 60_000, length: acrossGrid.length }), undefined);
  t.deepEqual(fleetBuckets(store, { agentIds: agents, metrics: METRICS, fromMs: across.from, toMs: across.to, stepMs: across.step }).series,
    general(store, agents, METRICS, across.from, across.to, across.step));
});
