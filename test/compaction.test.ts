import test from "ava";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { MetricPoint } from "../common/metrics.ts";
import { toSeriesText } from "../common/series-text.ts";
import { downsample } from "../server/query/aggregate.ts";
import { compactDay } from "../server/storage/compaction.ts";
import { DAY_MS, dayOf, dayStartMs } from "../server/storage/days.ts";
import { MetricStore } from "../server/storage/metric-store.ts";
import { PartitionSet } from "../server/storage/partitions.ts";

/*
 * Compaction of fresh data into hour chunks, checked against a brute-force oracle: every
 * point written (late ones into hours already compacted, retried reports, reports retried
 * after their hour was compacted, a value corrected at the same instant) is read back once,
 * with its last value, through queries, step buckets and scans, before and after each
 * compaction and after the day is sealed.
 */

const now = Date.parse("2026-12-03T12:00:00Z");
const today = dayOf(now), yesterday = dayOf(now - DAY_MS);

function temp(t: import("ava").ExecutionContext) {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-compact-"));
  const partitions = new PartitionSet(dir);
  let clock = now;
  const store = new MetricStore(partitions, () => clock);
  t.teardown(async () => { await partitions.closeAll(); rmSync(dir, { recursive: true, force: true }); });
  return { dir, partitions, store, setClock: (ms: number) => { clock = ms; } };
}

/** What was written, as the reader must see it: one value per (agent, series, instant), the last written. */
class Oracle {
  readonly points = new Map<string, Map<number, number>>();
  add(agentId: string, points: readonly MetricPoint[]): void {
    for (const p of points) {
      const key = `${agentId}|${p.metric}|${JSON.stringify(p.labels)}`;
      let series = this.points.get(key);
      if (!series) this.points.set(key, (series = new Map()));
      series.set(p.timestampMs, p.value);
    }
  }
  series(agentId: string, metric: string, fromMs: number, toMs: number): Map<string, [number, number][]> {
    const out = new Map<string, [number, number][]>();
    for (const [key, values] of this.points) {
      const [a, m, labels] = key.split("|");
      if (a !== agentId || m !== metric) continue;
      const pairs = [...values].filter(([ts]) => ts >= fromMs && ts <= toMs).sort((x, y) => x[0] - y[0]);
      if (pairs.length) out.set(labels!, pairs);
    }
    return out;
  }
}

function report(ts: number, seed: number): MetricPoint[] {
  const points: MetricPoint[] = [{ metric: "cpu.usage", labels: {}, value: Math.round((seed * 37 + ts / 1000) % 1000) / 10, timestampMs: ts }];
  for (let core = 0; core < 3; core++) points.push({ metric: "cpu.core_usage", labels: { core: String(core) }, value: (seed + core) % 100, timestampMs: ts });
  // A series present in some reports only.
  if (seed % 3 === 0) points.push({ metric: "disk.used_percent", labels: { mount: "/data" }, value: seed % 97, timestampMs: ts });
  return points;
}

function assertMatches(t: import("ava").ExecutionContext, store: MetricStore, oracle: Oracle, agentId: string, fromMs: number, toMs: number, when: string) {
  for (const metric of ["cpu.usage", "cpu.core_usage", "disk.used_percent"]) {
    const expected = oracle.series(agentId, metric, fromMs, toMs);
    const got = new Map(store.query(agentId, metric, fromMs, toMs).map((s) => [JSON.stringify(s.labels), s.points]));
    t.deepEqual(got, expected, `${metric} of ${agentId} ${when}`);
    // Step buckets equal the same buckets computed from the oracle's points.
    const step = 300_000;
    const buckets = store.buckets(agentId, metric, fromMs, toMs, step);
    t.deepEqual(buckets.map((s) => JSON.stringify(s.labels)).sort(), [...expected.keys()].sort(), `${metric} bucketed series ${when}`);
    for (const s of buckets) {
      const want = downsample(expected.get(JSON.stringify(s.labels)) ?? [], step);
      t.deepEqual(s.buckets.map(([start, min, max, , count]) => [start, min, max, count]), want.map(([start, min, max, , count]) => [start, min, max, count]), `${metric} buckets ${when}`);
      s.buckets.forEach((b, i) => t.true(Math.abs(b[3] - want[i]![3]) < 1e-9, `${metric} bucket avg ${when}`));
    }
  }
  // A scan yields each instant once, every series of it with its last value.
  const scanned = [...store.scan(agentId, fromMs, toMs)];
  const instants = scanned.map((r) => r.tsMs);
  t.deepEqual(instants, [...new Set(instants)].sort((a, b) => a - b), `scan: each instant once, in order ${when}`);
  const cpu = oracle.series(agentId, "cpu.usage", fromMs, toMs).get("{}") ?? [];
  t.deepEqual(scanned.map((r) => [r.tsMs, r.points.find((p) => p.metric === "cpu.usage")?.value]), cpu, `scan values ${when}`);
}

test("compacted chunks read exactly like the raw records they replace: late data, retries and corrections included", async (t) => {
  const { partitions, store, dir } = temp(t);
  const oracle = new Oracle();
  const write = async (agentId: string, points: MetricPoint[]) => { await store.write(agentId, points); oracle.add(agentId, points); };
  const start = dayStartMs(today);
  const from = start, to = now;
  // Three hours of two agents at 10 s, compacted every 20 minutes of data.
  let seed = 0;
  for (let ts = start + 8 * 3_600_000; ts < start + 11 * 3_600_000; ts += 10_000) {
    for (const agent of ["web-1", "web-2"]) await write(agent, report(ts, seed++));
    if ((ts - start) % 1_200_000 === 0) {
      await compactDay(partitions, today);
      assertMatches(t, store, oracle, "web-1", from, to, `after compacting at ${new Date(ts).toISOString()}`);
    }
  }
  // A retried report (same content) while still raw, and after its hour was compacted.
  const retried = start + 8 * 3_600_000 + 50_000;
  await store.write("web-1", report(retried, 9999)); oracle.add("web-1", report(retried, 9999));
  await compactDay(partitions, today);
  await store.write("web-1", report(retried, 9999));
  assertMatches(t, store, oracle, "web-1", from, to, "with a retry raw beside its chunk");
  // Late data into an hour compacted long ago, and a value corrected at an instant already compacted.
  await write("web-1", report(start + 8 * 3_600_000 + 5_000, 4242));
  await write("web-2", report(start + 9 * 3_600_000 + 10_000, 777));
  assertMatches(t, store, oracle, "web-2", from, to, "late data before compaction");
  const result = await compactDay(partitions, today);
  t.true(result.generations >= 1 && result.points > 0);
  for (const agent of ["web-1", "web-2"]) assertMatches(t, store, oracle, agent, from, to, "after the last compaction");
  t.deepEqual(readdirSync(path.join(dir, "metrics")).filter((f) => f.startsWith(today) && !f.endsWith("-lock")), [], "every closed raw generation deleted");
  // A narrow window inside one chunk.
  assertMatches(t, store, oracle, "web-1", start + 9 * 3_600_000 + 123_000, start + 9 * 3_600_000 + 456_000, "in a narrow window");
});

test("a backfill of yesterday is compacted at once and sealing takes the chunks in", async (t) => {
  const { partitions, store, setClock } = temp(t);
  const oracle = new Oracle();
  const start = dayStartMs(yesterday);
  for (let ts = start; ts < start + DAY_MS; ts += 60_000) {
    const points = report(ts, ts / 60_000);
    await store.write("db-1", points);
    oracle.add("db-1", points);
  }
  await compactDay(partitions, yesterday);
  t.deepEqual(partitions.files.rawGenerations(yesterday), [], "the backfill's raw records are gone");
  assertMatches(t, store, oracle, "db-1", start, start + DAY_MS - 1, "compacted");
  // A late report into the compacted day, then the seal: one sealed version holds it all.
  const late = report(start + 30_000, 5);
  await store.write("db-1", late); oracle.add("db-1", late);
  setClock(start + 2 * DAY_MS);
  await store.seal(yesterday);
  t.deepEqual(readdirSync(partitions.files.chunkDir).filter((f) => f.startsWith(yesterday) && !f.endsWith("-lock")), [], "the chunks are merged into the seal");
  assertMatches(t, store, oracle, "db-1", start, start + DAY_MS - 1, "sealed");
  // Late data after the seal is compacted into chunks that follow that version.
  const later = report(start + 90_000, 6);
  await store.write("db-1", later); oracle.add("db-1", later);
  await compactDay(partitions, yesterday);
  assertMatches(t, store, oracle, "db-1", start, start + DAY_MS - 1, "late data after the seal, compacted");
  t.deepEqual(partitions.files.unsealedDays(), [yesterday], "waiting for the next seal");
});

test("a writer that chose a generation before a compaction closed it follows to the next one, losing nothing", async (t) => {
  const { dir, store } = temp(t);
  // A second process's view of the same data: its own handles and its own idea of the generation.
  const other = new PartitionSet(dir);
  const otherStore = new MetricStore(other, () => now);
  t.teardown(() => other.closeAll());
  const oracle = new Oracle();
  const start = dayStartMs(today) + 3_600_000;
  const first = report(start, 1);
  await otherStore.write("w-1", first); oracle.add("w-1", first);
  // This process compacts twice (closing generations 0 and 1), the other still writes to 0.
  await store.write("w-1", report(start + 10_000, 2)); oracle.add("w-1", report(start + 10_000, 2));
  const partitions = (store as unknown as { partitions: PartitionSet }).partitions;
  await compactDay(partitions, today);
  await store.write("w-1", report(start + 20_000, 3)); oracle.add("w-1", report(start + 20_000, 3));
  await compactDay(partitions, today);
  for (let i = 4; i < 10; i++) {
    const points = report(start + i * 10_000, i);
    await otherStore.write("w-1", points);
    oracle.add("w-1", points);
  }
  await compactDay(partitions, today);
  assertMatches(t, store, oracle, "w-1", start - 1, start + 3_600_000, "after the stale writer moved on");
  assertMatches(t, otherStore, oracle, "w-1", start - 1, start + 3_600_000, "read by the other process");
});

test("a report's exactly-once key outlives the compaction of its raw generation", async (t) => {
  const { partitions, store } = temp(t);
  const ts = dayStartMs(today) + 3_600_000;
  const block = (v: number) => ({ series: toSeriesText([["cpu.usage", {}]]), timestamps: Float64Array.of(ts), values: Float64Array.of(v) });
  const key = { streamId: "s-1", sequence: 7 };
  t.true(await store.writeBlock("k-1", block(1), key), "first delivery stored");
  t.false(await store.writeBlock("k-1", block(1), key), "a resend before compaction is a duplicate");
  await compactDay(partitions, today);
  t.deepEqual(partitions.files.rawGenerations(today), [], "its generation is gone");
  t.false(await store.writeBlock("k-1", block(1), key), "and after it");
  t.true(await store.writeBlock("k-1", block(2), { streamId: "s-1", sequence: 8 }), "the next sequence is new");
  t.deepEqual(store.query("k-1", "cpu.usage", ts, ts)[0]!.points, [[ts, 2]]);
});
