import test from "ava";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SimulatedHost } from "../scripts/lib/agent-shape.ts";
import { downsample } from "../server/query/aggregate.ts";
import { DAY_MS, dayOf, dayStartMs } from "../server/storage/days.ts";
import { MetricStore } from "../server/storage/metric-store.ts";
import { ControlStore } from "../server/storage/control-store.ts";
import { Lease } from "../server/storage/lease.ts";
import { PartitionSet } from "../server/storage/partitions.ts";
import { shapeIdOf } from "../server/storage/raw-shapes.ts";
import { toSeriesText } from "../common/series-text.ts";
import { applyRetention } from "../server/storage/retention.ts";
import { daysToSeal } from "../server/actors/sealer/sealing.ts";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { spawnServer, writeServerConfig } from "../scripts/lib/server-process.ts";
import { adminFetch, getJson, startTestServer, until } from "./helpers/server.ts";

/*
 * Sealing a past day into compressed columns: every query and scan answers exactly as
 * before, late reports after a seal are kept (and folded in by the next seal), nothing is
 * read twice, and retention deletes sealed days too.
 */

const now = Date.parse("2026-11-23T12:00:00Z");
const day = "2026-11-20";
const start = dayStartMs(day);

async function storeWithDay(t: import("ava").ExecutionContext, reports = 360) {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-seal-"));
  const partitions = new PartitionSet(dir);
  const store = new MetricStore(partitions, () => now);
  t.teardown(async () => { await partitions.closeAll(); rmSync(dir, { recursive: true, force: true }); });
  const hosts = [new SimulatedHost("web-1", 1, { cores: 4, mounts: 2, interfaces: 2, devices: 1 }), new SimulatedHost("web-2", 2, { cores: 2, mounts: 1, interfaces: 2, devices: 1 })];
  let points = 0;
  for (let i = 0; i < reports; i++) {
    // The last hour of the day before, this day, and the first hour of the next: three partitions.
    const ts = start - 3_600_000 + i * ((DAY_MS + 2 * 3_600_000) / reports) + (i % 3);
    for (const h of hosts) {
      const batch = h.report(Math.round(ts), 10);
      await store.write(h.agentId, batch.points);
      if (dayOf(batch.timestampMs) === day) points += batch.points.length;
    }
  }
  return { dir, partitions, store, points };
}

/** Everything the store answers about an agent, in a comparable form. */
function snapshot(store: MetricStore, agent: string) {
  const metrics = ["cpu.core_usage", "cpu.usage", "memory.used", "disk.used", "network.bytes_recv", "load.uptime"];
  const from = start - 2 * 3_600_000, to = start + DAY_MS + 2 * 3_600_000;
  return {
    series: metrics.map((m) => store.query(agent, m, from, to)),
    filtered: store.query(agent, "disk.used", from, to, { mount: "/" }),
    scan: [...store.scan(agent, from, to)].map((r) => [r.tsMs, r.points.map((p) => `${p.metric}${JSON.stringify(p.labels)}=${p.value}`).sort()] as const)
      .sort((a, b) => a[0] - b[0]),
  };
}

test("a sealed day answers queries and scans exactly as before, in a fraction of the bytes", async (t) => {
  const { dir, store, points } = await storeWithDay(t);
  const before = { a: snapshot(store, "web-1"), b: snapshot(store, "web-2") };
  // Ranges inside the day whose ends fall on stored instants and just beside them (a sealed
  // day's read visits only the slice in range).
  const ts = store.query("web-1", "cpu.usage", start, start + DAY_MS - 1)[0]!.points.map(([at]) => at);
  const ranges = [[ts[10]!, ts[50]!], [ts[10]! + 1, ts[50]! - 1], [ts[10]! - 1, ts[10]!], [ts[0]!, ts[0]!], [ts.at(-1)! + 1, start + DAY_MS - 1]] as const;
  const partial = () => ranges.map(([from, to]) => ({
    query: store.query("web-1", "cpu.usage", from, to),
    scan: [...store.scan("web-1", from, to)].map((r) => [r.tsMs, r.points.length]),
  }));
  const partialBefore = partial();
  t.is(partialBefore[0]!.query[0]!.points.length, 41);
  t.is(partialBefore[0]!.scan.length, 41);
  const sealed = await store.seal(day);
  t.is(sealed.points, points);
  t.deepEqual({ a: snapshot(store, "web-1"), b: snapshot(store, "web-2") }, before);
  t.deepEqual(partial(), partialBefore, "parts of the day, ends included");
  t.false(existsSync(path.join(dir, "metrics", `${day}.mdb`)), "the raw generation is gone");
  t.deepEqual(readdirSync(path.join(dir, "sealed")).filter((f) => f.endsWith(".mdb")), [`${day}.v0.mdb`]);
  t.log(`${points} points sealed into ${sealed.bytes} bytes: ${(sealed.bytes / points).toFixed(2)} B/point (LMDB pages included)`);
  t.true(sealed.bytes / points < 8, "far smaller than the raw layout");
});

test("late reports after a seal are read, one value per instant, and folded in by the next seal", async (t) => {
  const { dir, store } = await storeWithDay(t, 48);
  await store.seal(day);
  const late = start + 12 * 3_600_000 + 5;
  const existing = store.query("web-1", "cpu.usage", start, start + DAY_MS - 1)[0]!.points;
  const retried = existing[10]!;
  await store.write("web-1", [
    { timestampMs: late, metric: "cpu.usage", value: 42.42, labels: {} },
    { timestampMs: retried[0], metric: "cpu.usage", value: retried[1], labels: {} }, // a retry of a sealed report
    { timestampMs: late, metric: "brand.new", value: 1, labels: { k: "v" } },
  ]);
  t.true(existsSync(path.join(dir, "metrics", `${day}.g1.mdb`)), "late reports land in the next generation");
  const merged = store.query("web-1", "cpu.usage", start, start + DAY_MS - 1)[0]!.points;
  t.is(merged.length, existing.length + 1);
  t.deepEqual(merged.filter(([ts]) => ts === late), [[late, 42.42]]);
  t.true(merged.every((p, i) => i === 0 || p[0] > merged[i - 1]![0]), "in time order, no instant twice");

  await store.seal(day);
  t.deepEqual(store.query("web-1", "cpu.usage", start, start + DAY_MS - 1)[0]!.points, merged);
  t.deepEqual(store.query("web-1", "brand.new", start, start + DAY_MS - 1), [{ metric: "brand.new", labels: { k: "v" }, points: [[late, 1]] }]);
  t.deepEqual(readdirSync(path.join(dir, "sealed")).filter((f) => f.endsWith(".mdb")), [`${day}.v1.mdb`], "the older version is replaced");
  t.deepEqual(readdirSync(path.join(dir, "metrics")).filter((f) => f.startsWith(day)), []);
});

test("raw records of the earlier layouts (no shapes; shapes in a named database), an agent named like that database, and a report of several instants are read and sealed alike", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-seal-"));
  const partitions = new PartitionSet(dir);
  const store = new MetricStore(partitions, () => now);
  t.teardown(async () => { await partitions.closeAll(); rmSync(dir, { recursive: true, force: true }); });
  // As stored before shapes: [metrics, labels (null for none), values] under the same key.
  await partitions.recent(day).put(["old-1", start + 1000, 7], [["cpu.usage", "disk.used"], [null, { mount: "/" }], [12.5, 40]]);
  // As stored while shapes lived in a `shapes` database of the generation.
  const text = toSeriesText([["cpu.usage", {}]]), id = shapeIdOf(text);
  await partitions.recent(day).openDB<string, string>({ name: "shapes", encoding: "string" }).put(id, text);
  await partitions.recent(day).put(["old-2", start + 1500, 3], [id, new Uint8Array(new Float64Array([33.25]).buffer)]);
  await store.write("shapes", [
    { timestampMs: start + 2000, metric: "cpu.usage", value: 1, labels: {} },
    { timestampMs: start + 3000, metric: "cpu.usage", value: 2, labels: {} },
    { timestampMs: start + 3000, metric: "disk.used", value: 41, labels: { mount: "/" } },
  ]);
  const answers = () => ({
    old: [store.query("old-1", "cpu.usage", start, start + DAY_MS), store.query("old-1", "disk.used", start, start + DAY_MS, { mount: "/" })],
    namedShapes: store.query("old-2", "cpu.usage", start, start + DAY_MS),
    shapes: [store.query("shapes", "cpu.usage", start, start + DAY_MS), store.query("shapes", "disk.used", start, start + DAY_MS)],
  });
  const want = {
    old: [[{ metric: "cpu.usage", labels: {}, points: [[start + 1000, 12.5]] }], [{ metric: "disk.used", labels: { mount: "/" }, points: [[start + 1000, 40]] }]],
    namedShapes: [{ metric: "cpu.usage", labels: {}, points: [[start + 1500, 33.25]] }],
    shapes: [[{ metric: "cpu.usage", labels: {}, points: [[start + 2000, 1], [start + 3000, 2]] }], [{ metric: "disk.used", labels: { mount: "/" }, points: [[start + 3000, 41]] }]],
  };
  t.deepEqual(answers(), want);
  t.is((await store.seal(day)).points, 6, "every agent is sealed");
  t.deepEqual(answers(), want);
});

test("reports written while a seal is being built are neither lost nor read twice", async (t) => {
  const { store } = await storeWithDay(t, 48);
  const sealing = store.seal(day);
  const during: number[] = [];
  for (let i = 0; i < 20; i++) {
    const ts = start + 20 * 3_600_000 + i;
    await store.write("web-2", [{ timestampMs: ts, metric: "during.seal", value: i, labels: {} }]);
    during.push(ts);
    await new Promise((r) => setImmediate(r));
  }
  await sealing;
  t.deepEqual(store.query("web-2", "during.seal", start, start + DAY_MS)[0]!.points.map(([ts]) => ts), during);
  await store.seal(day);
  t.deepEqual(store.query("web-2", "during.seal", start, start + DAY_MS)[0]!.points.map(([ts]) => ts), during);
});

test("a recent day is not sealed; retention deletes sealed days whole", async (t) => {
  const { partitions, store } = await storeWithDay(t, 24);
  await t.throwsAsync(store.seal(dayOf(now)), { message: /still takes reports/ });
  await store.seal(day);
  t.true(partitions.files.days().includes(day));
  const dropped = await applyRetention(partitions, Date.parse("2026-11-27T00:00:00Z"), 5);
  t.true(dropped.includes(day));
  t.false(partitions.files.days().includes(day));
  t.deepEqual(readdirSync(partitions.files.rollupDir).filter((f) => f.startsWith(day)), [], "its rollups go with it");
  t.deepEqual(store.query("web-1", "cpu.usage", start, start + DAY_MS - 1), []);
});

test("a server seals past days in the background at start-up; its API answers the same after", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-seal-srv-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const past = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS + 3_600_000;
  const first = await startTestServer({}, dir);
  const client = new ProtoClient(first.grpc);
  for (let i = 0; i < 30; i++) await client.report(makeBatch("seal-1", past + i * 10_000, 6));
  client.close();
  const url = (s: { http: string }) => `${s.http}/v1/metrics?agent=seal-1&metric=cpu.core_usage&from=${past}&to=${past + 3_600_000}`;
  const before = await getJson(url(first));
  t.is(before.body.series.length, 5);
  await first.stop();

  const second = await startTestServer({}, dir);
  t.teardown(() => second.stop());
  // Its raw generations are compacted into chunks at once; the seal then takes the chunks in.
  await until("the past day sealed, its raw generations and chunks deleted", async () =>
    (readdirSync(path.join(dir, "sealed")).some((f) => f.startsWith(`${dayOf(past)}.v`)) && !readdirSync(path.join(dir, "metrics")).some((f) => f.startsWith(dayOf(past)))
      && !readdirSync(path.join(dir, "chunks")).some((f) => f.startsWith(dayOf(past))) ? true : undefined));
  t.deepEqual((await getJson(url(second))).body, before.body);
});

test("sealing from another process while a server takes late reports for that day loses and doubles nothing", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-seal-race-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, "data");
  const { file, ports } = await writeServerConfig(dir, { dataDir, extra: "[actors]\ningest_threads = 2\n" });
  // This process is the host's sealer, as one PM2 instance is: it holds the lease, so the
  // server's own sealer stands aside (two sealers at once are what the lease prevents).
  const control = new ControlStore(dataDir);
  const lease = new Lease(control.leases, "sealer", 600_000);
  t.true(await lease.acquire());
  t.teardown(async () => { await lease.release(); await control.close(); });
  const server = await spawnServer(file, ports);
  t.teardown(() => { server.child.kill("SIGKILL"); });
  const lateDay = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS;

  // This process seals the day over and over while four streams send it late reports.
  const partitions = new PartitionSet(dataDir);
  const store = new MetricStore(partitions);
  t.teardown(() => partitions.closeAll());
  let sending = true, seals = 0;
  const acked: number[] = [];
  const streams = Array.from({ length: 4 }, async (_, s) => {
    const client = new ProtoClient(server.grpc, undefined, { "grpc.use_local_subchannel_pool": 1 });
    for (let i = 0; sending; i++) {
      const ts = lateDay + 3_600_000 + i * 4_000 + s * 1_000;
      await client.report(makeBatch("race-1", ts, 3));
      acked.push(ts);
    }
    client.close();
  });
  // Counted, not timed: a loaded machine gets fewer reports into the same seconds.
  const sealer = (async () => {
    for (; seals < 4 || acked.length < 60; seals++) {
      await store.seal(dayOf(lateDay));
      await new Promise((r) => setTimeout(r, 50));
    }
    sending = false;
  })();
  await Promise.all([sealer, ...streams]);
  t.true(seals >= 3 && acked.length > 50, `${seals} seals during ${acked.length} late reports`);

  const want = [...acked].sort((a, b) => a - b);
  const stored = async () => {
    const res = await adminFetch(`${server.http}/v1/metrics?agent=race-1&metric=cpu.usage&from=${lateDay}&to=${lateDay + DAY_MS - 1}`);
    const got = ((await res.json()) as { series: { points: number[][] }[] }).series[0]!.points.map((p) => p[0]! - lateDay);
    const missing = want.map((ts) => ts - lateDay).filter((ts) => !got.includes(ts));
    return { got, missing, doubled: got.filter((ts, i) => got.indexOf(ts) !== i) };
  };
  const during = await stored();
  await store.seal(dayOf(lateDay));
  const after = await stored();
  t.deepEqual([during.missing, during.doubled], [[], []], "every acknowledged late report, once (ms after the day's start)");
  t.deepEqual([after.missing, after.doubled], [[], []], "and after a last seal");
  t.deepEqual(after.got, want.map((ts) => ts - lateDay), "in time order");
  server.child.kill("SIGTERM");
  t.is(await server.exited, 0);
});

test("step buckets from a sealed day's 1 min and 1 h rollups equal buckets of its points, edges and late reports included", async (t) => {
  const { store } = await storeWithDay(t, 720);
  const points = (from: number, to: number, metric: string, labels = {}) => store.query("web-1", metric, from, to, labels);
  const brute = (from: number, to: number, metric: string, stepMs: number, labels = {}) =>
    points(from, to, metric, labels).map((s) => ({ labels: s.labels, buckets: downsample(s.points, stepMs) }))
      .sort((a, b) => (JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1));
  const same = (got: { labels: object; buckets: number[][] }[], want: { labels: object; buckets: number[][] }[], what: string) => {
    t.deepEqual(got.map((s) => s.labels), want.map((s) => s.labels), what);
    got.forEach((s, i) => {
      const w = want[i]!.buckets;
      t.is(s.buckets.length, w.length, what);
      t.true(s.buckets.every((b, j) => b.every((x, k) => Math.abs(x - w[j]![k]!) <= 1e-9 * Math.max(1, Math.abs(x)))), what);
    });
  };
  const wide = [start - 3_600_000, start + DAY_MS + 3_600_000 - 1] as const; // the sealed day whole, raw edges around it
  const before = { m5: brute(...wide, "cpu.core_usage", 300_000), h1: brute(...wide, "memory.used", 3_600_000), s90: brute(...wide, "cpu.usage", 90_000) };
  await store.seal(day);
  same(store.buckets("web-1", "cpu.core_usage", ...wide, 300_000), before.m5, "step 300 over 1 min rollups");
  same(store.buckets("web-1", "memory.used", ...wide, 3_600_000), before.h1, "step 3600 over 1 h rollups");
  same(store.buckets("web-1", "cpu.usage", ...wide, 90_000), before.s90, "step 90 s: from points");
  same(store.buckets("web-1", "cpu.core_usage", ...wide, 600_000, { core: "2" }), brute(...wide, "cpu.core_usage", 600_000, { core: "2" }), "a label filter");
  const part = [start + 5 * 3_600_000 + 17_000, start + 20 * 3_600_000] as const;
  same(store.buckets("web-1", "cpu.usage", ...part, 300_000), brute(...part, "cpu.usage", 300_000), "part of a sealed day: from points");

  await store.write("web-1", [{ timestampMs: start + 7_200_000 + 1, metric: "cpu.usage", value: 99.99, labels: {} }]);
  const late = store.buckets("web-1", "cpu.usage", ...wide, 300_000);
  same(late, brute(...wide, "cpu.usage", 300_000), "a late report after the seal");
  t.true(late[0]!.buckets.some((b) => b[2] === 99.99));
});

test("rollups outlive the data they summarize: past retention_days, step queries answer from them until rollup_retention_days", async (t) => {
  const { partitions, store } = await storeWithDay(t, 720);
  await store.seal(day);
  const range = [start, start + DAY_MS - 1] as const;
  const hourly = store.buckets("web-1", "memory.used", ...range, 3_600_000);
  t.is(hourly[0]!.buckets.length, 24);
  // Data kept 3 days, rollups 30: on the 27th the 20th's data is gone, its rollups are not.
  await applyRetention(partitions, Date.parse("2026-11-27T00:00:00Z"), 3, 30);
  t.deepEqual(store.query("web-1", "memory.used", ...range), []);
  t.deepEqual(store.buckets("web-1", "memory.used", ...range, 3_600_000), hourly);
  const partial = store.buckets("web-1", "memory.used", start + 30 * 60_000, start + 3 * 3_600_000 - 1, 3_600_000);
  t.deepEqual(partial[0]!.buckets.map((b) => b[0]), [start + 3_600_000, start + 2 * 3_600_000], "only buckets wholly inside the range");
  t.deepEqual(store.buckets("web-1", "memory.used", ...range, 90_000), [], "a step finer than the rollups has nothing to read");
  await applyRetention(partitions, Date.parse("2026-12-25T00:00:00Z"), 3, 30);
  t.deepEqual(store.buckets("web-1", "memory.used", ...range, 3_600_000), []);
});

test("daysToSeal takes days that ended more than 12 h ago, and none that retention is about to delete", (t) => {
  const days = ["2026-11-10", "2026-11-21", "2026-11-22", "2026-11-23"];
  // now = 2026-11-23T12:00Z: the 22nd ended 12 h ago exactly (not yet), the 21st 36 h ago.
  t.deepEqual(daysToSeal(days, now, 30), ["2026-11-10", "2026-11-21"]);
  t.deepEqual(daysToSeal(days, now + 1, 30), ["2026-11-10", "2026-11-21", "2026-11-22"]);
  t.deepEqual(daysToSeal(days, now, 7), ["2026-11-21"], "the 10th is past retention_days = 7");
});
