import test from "ava";
import { downsample, percentile, seriesStats } from "../server/query/aggregate.ts";
import { DAY_MS } from "../server/storage/days.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { ProtoClient, type ProtoPoint } from "./helpers/proto-client.ts";
import { getJson, startTestServer } from "./helpers/server.ts";

/*
 * Downsampling (step) and statistics, checked against brute-force computations: as pure
 * functions on random data, and end to end over points that straddle a UTC midnight, so the
 * query reads two day partitions.
 */

/** A small deterministic PRNG, so a failure can be replayed. */
function rng(seed: number) {
  return () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

function bruteBuckets(points: [number, number][], stepMs: number) {
  const starts = [...new Set(points.map(([ts]) => Math.floor(ts / stepMs) * stepMs))].sort((a, b) => a - b);
  return starts.map((start) => {
    const vs = points.filter(([ts]) => ts >= start && ts < start + stepMs).map(([, v]) => v);
    return [start, Math.min(...vs), Math.max(...vs), vs.reduce((a, b) => a + b, 0) / vs.length, vs.length];
  });
}

function bruteStats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank, by its definition: the smallest value with at least p % at or below it.
  const rank = (p: number) => sorted.find((v) => sorted.filter((w) => w <= v).length >= (p / 100) * sorted.length)!;
  return {
    count: values.length, min: sorted[0], max: sorted.at(-1), avg: values.reduce((a, b) => a + b, 0) / values.length,
    p50: rank(50), p95: rank(95), p99: rank(99),
  };
}

/** Stats equal but for the mean's last bits (the sum's order differs). */
function sameStats(t: import("ava").ExecutionContext, got: any, want: any, what: string) {
  t.deepEqual({ ...got, avg: 0 }, { ...want, avg: 0 }, what);
  t.true(Math.abs(got.avg - want.avg) < 1e-9 * Math.max(1, Math.abs(want.avg)), what);
}

const close = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) < 1e-9 * Math.max(1, Math.abs(x)));

test("downsample equals a brute-force bucketing for random points, steps and gaps, in any order", (t) => {
  const random = rng(7);
  for (const stepMs of [1_000, 10_000, 60_000, 300_000, 3_600_000]) {
    const points: [number, number][] = [];
    let ts = 1_795_000_000_000;
    for (let i = 0; i < 2_000; i++) {
      ts += random() < 0.02 ? 3_600_000 * random() * 5 : 10_000; // some large gaps
      points.push([Math.round(ts), Math.round((random() * 200 - 100) * 100) / 100]);
    }
    points.push(points[5]!, points[6]!); // duplicates count twice, as stored
    const shuffled = [...points].sort(() => random() - 0.5);
    const got = downsample(shuffled, stepMs);
    const want = bruteBuckets(points, stepMs);
    t.is(got.length, want.length, `step ${stepMs}`);
    t.true(got.every((b, i) => close(b, want[i]!)), `step ${stepMs}`);
  }
  t.deepEqual(downsample([], 1000), []);
});

test("stats equal brute force; percentiles are by nearest rank", (t) => {
  const random = rng(11);
  for (const n of [1, 2, 3, 10, 99, 100, 101, 1_000]) {
    const values = Array.from({ length: n }, () => Math.round(random() * 10_000) / 100);
    sameStats(t, seriesStats(values), bruteStats(values), `n = ${n}`);
  }
  t.is(seriesStats([]), null);
  t.is(percentile([1, 2, 3, 4], 50), 2);
  t.is(percentile([1, 2, 3, 4], 51), 3);
  t.is(percentile([5], 99), 5);
});

test("step, stats and label filters over a range that crosses UTC midnight match brute force", async (t) => {
  const server = await startTestServer();
  const client = new ProtoClient(server.grpc);
  t.teardown(async () => { client.close(); await server.stop(); });
  const midnight = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS; // yesterday's start: always in the past
  const from = midnight - 3_600_000, to = midnight + 3_600_000;
  const random = rng(3);
  const sent: Record<string, [number, number][]> = { "/": [], "/data": [] };
  const points: ProtoPoint[] = [];
  for (let ts = from; ts < to; ts += 30_000) {
    for (const mount of ["/", "/data"]) {
      const value = Math.round(random() * 10_000) / 100;
      sent[mount]!.push([ts, value]);
      points.push({ timestamp_ms: ts, metric_name: "disk.used_percent", value, labels: { mount } });
    }
  }
  for (let i = 0; i < points.length; i += 400) {
    await client.report({ agent_id: "q-01", timestamp_ms: points[i]!.timestamp_ms, data_points: points.slice(i, i + 400) });
  }
  const q = (extra: string) => getJson(`${server.http}/v1/metrics${extra.startsWith("/") ? extra : `?${extra}`}`);
  const base = `agent=q-01&metric=disk.used_percent&from=${from}&to=${to}`;

  const raw = await q(`${base}&labels=mount:/data`);
  t.is(raw.status, 200);
  t.deepEqual(raw.body.series.map((s: any) => s.labels), [{ mount: "/data" }]);
  t.deepEqual(raw.body.series[0].points, sent["/data"], "every point, in order, across both day partitions");

  const stepped = await q(`${base}&step=300`);
  t.is(stepped.status, 200);
  assertDocumented(t, "GET", "/v1/metrics", 200, stepped.body);
  t.is(stepped.body.step, 300);
  for (const s of stepped.body.series) {
    const want = bruteBuckets(sent[s.labels.mount]!, 300_000);
    t.is(s.buckets.length, want.length);
    t.true(s.buckets.every((b: number[], i: number) => close(b, want[i]!)), s.labels.mount);
    t.is(s.points, undefined);
  }
  t.true(stepped.body.series[0].buckets.some((b: number[]) => b[0] === midnight), "a bucket starts at midnight: no seam");

  const stats = await q(`/stats?${base}`);
  t.is(stats.status, 200);
  assertDocumented(t, "GET", "/v1/metrics/stats", 200, stats.body);
  for (const s of stats.body.series) {
    const { labels, ...rest } = s;
    sameStats(t, rest, bruteStats(sent[labels.mount]!.map(([, v]) => v)), labels.mount);
  }
  const hour = await q(`/stats?agent=q-01&metric=disk.used_percent&from=${midnight}&to=${midnight + 599_999}&labels=mount:/`);
  t.is(hour.body.series[0].count, 20, "from and to are inclusive bounds of the raw points");

  for (const [extra, pattern] of [["step=0", /^step: must be between 1/], ["step=abc", /^step: must be a whole number/], ["step=1", /^step: gives more than 20000 buckets over this range; use at least 5$/]] as const) {
    const bad = await q(`${base.replace(`from=${from}`, `from=${from - DAY_MS}`)}&${extra}`);
    t.is(bad.status, 400, extra);
    t.regex(bad.body.error, pattern);
  }
  // Beyond 31 days only rollups answer, and they hold whole minutes.
  const year = `agent=q-01&metric=disk.used_percent&from=${to - 200 * DAY_MS}&to=${to}`;
  const odd = await q(`${year}&step=3630`);
  t.is(odd.status, 400);
  t.regex(odd.body.error, /^step: over more than 31 days must be a whole number of minutes/);
  t.is((await q(`${year}&step=3600`)).status, 200);
  t.is((await q(`/stats?agent=nobody&metric=x&from=${from}&to=${to}`)).status, 404);
  t.is((await q(`/stats?agent=q-01&metric=x&from=${to}&to=${from}`)).status, 400);
});
