import test from "ava";
import { bucketGrid, toGridColumns } from "../server/query/bucket-grid.ts";
import { closestNames, editDistance } from "../server/query/closest-names.ts";
import { agentStatus, selectAgents } from "../server/query/fleet.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { ProtoClient, type ProtoPoint } from "./helpers/proto-client.ts";
import { getJson, startTestServer, until, type TestServer } from "./helpers/server.ts";

/*
 * Fleet reads (/v1/query, /v1/overview) and the /v1/metrics additions (404 hint,
 * format=columns) against a real server fed over the real gRPC client: five agents, one of
 * them silent for ten minutes (offline) and one breaching a rule (alerting).
 */

let server: TestServer;
let client: ProtoClient;
const now = Date.now();
const from = now - 10 * 60_000;
const ONLINE = ["web-1", "web-2", "db-1", "web-hot"];

/** An agent's report at `ts`: cpu, memory and two disks, values that differ per agent and instant. */
function report(agent: string, ts: number, cpu: number): ProtoPoint[] {
  const k = (ts / 10_000) % 100;
  return [
    { timestamp_ms: ts, metric_name: "cpu.usage", value: cpu },
    { timestamp_ms: ts, metric_name: "memory.used_percent", value: 40 + (k % 7) },
    { timestamp_ms: ts, metric_name: "disk.used_percent", value: 10 + (k % 3), labels: { mount: "/" } },
    { timestamp_ms: ts, metric_name: "disk.used_percent", value: 60 + (k % 5), labels: { mount: "/data" } },
  ];
}

test.before(async () => {
  server = await startTestServer({
    agent_active_secs: 60,
    alert: { rules: [{ name: "hot-cpu", type: "threshold", metric: "cpu.usage", agent_pattern: "web-hot", operator: "gt", value: 90, duration_secs: 0, severity: "critical" }] },
  });
  client = new ProtoClient(server.grpc);
  for (let ts = from; ts <= now; ts += 10_000) {
    for (const [i, agent] of ONLINE.entries()) {
      const cpu = agent === "web-hot" ? 97 : 10 + i + ((ts / 10_000) % 13);
      await client.report({ agent_id: agent, timestamp_ms: ts, data_points: report(agent, ts, cpu) });
    }
  }
  // Silent for the last 8 minutes: offline at agent_active_secs = 60.
  for (let ts = from; ts <= now - 8 * 60_000; ts += 10_000) await client.report({ agent_id: "old-1", timestamp_ms: ts, data_points: report("old-1", ts, 5) });
  await until("the alert on web-hot", async () => {
    const active = await getJson(`${server.http}/v1/alerts/active`);
    return active.body.some((a: { agent_id: string }) => a.agent_id === "web-hot") ? true : undefined;
  });
});
test.after.always(async () => {
  client?.close();
  await server?.stop();
});

const get = (path: string) => getJson(`${server.http}${path}`);
/** The non-empty buckets of columns on a grid, as /v1/metrics?step gives them. */
const asBuckets = (timestamps: number[], s: { min: (number | null)[]; max: (number | null)[]; avg: (number | null)[]; count: number[] }) =>
  timestamps.flatMap((t, i) => (s.count[i]! > 0 ? [[t, s.min[i], s.max[i], s.avg[i], s.count[i]]] : []));

test("pure parts: the grid, columns on it, agent selection, status, edit distance", (t) => {
  t.deepEqual(bucketGrid(61_000, 180_000, 60_000), [60_000, 120_000, 180_000]);
  t.deepEqual(toGridColumns([[120_000, 1, 3, 2, 2]], 60_000, 60_000, 3), { min: [null, 1, null], max: [null, 3, null], avg: [null, 2, null], count: [0, 2, 0] });
  t.deepEqual(selectAgents(["b", "web-2", "web-1", "db"], ["web-*"]), ["web-1", "web-2"]);
  t.deepEqual(selectAgents(["b", "a"], []), ["a", "b"]);
  t.is(agentStatus(1_000, 50_000, 60_000, 0), "online");
  t.is(agentStatus(1_000, 70_000, 60_000, 0), "offline");
  t.is(agentStatus(1_000, 70_000, 60_000, 2), "alerting");
  t.is(editDistance("cpu.usgae", "cpu.usage"), 2);
  t.deepEqual(closestNames("cpu.usgae", ["memory.used", "cpu.usage", "cpu.core_usage", "disk.used"], 2), ["cpu.usage", "cpu.core_usage"]);
});

test("/v1/query: every matching agent's buckets on one grid, equal to /v1/metrics?step per agent", async (t) => {
  const res = await get(`/v1/query?metric=cpu.usage&agents=web-*&from=${from}&to=${now}&step=60`);
  t.is(res.status, 200);
  assertDocumented(t, "GET", "/v1/query", 200, res.body);
  t.deepEqual(res.body.agents, ["web-1", "web-2", "web-hot"]);
  t.deepEqual(res.body.timestamps, bucketGrid(from, now, 60_000));
  t.deepEqual(res.body.series.map((s: { agent_id: string }) => s.agent_id), ["web-1", "web-2", "web-hot"]);
  for (const s of res.body.series) {
    for (const column of [s.min, s.max, s.avg, s.count]) t.is(column.length, res.body.timestamps.length);
    const one = await get(`/v1/metrics?agent=${s.agent_id}&metric=cpu.usage&from=${from}&to=${now}&step=60`);
    t.deepEqual(asBuckets(res.body.timestamps, s), one.body.series[0].buckets, s.agent_id);
  }
});

test("/v1/query: globs match, match nothing, default to every agent; several globs; labels filter", async (t) => {
  const none = await get(`/v1/query?metric=cpu.usage&agents=nope-*&from=${from}&to=${now}`);
  t.is(none.status, 200);
  t.deepEqual([none.body.agents, none.body.series], [[], []]);
  const all = await get(`/v1/query?metric=cpu.usage&from=${from}&to=${now}`);
  t.deepEqual(all.body.agents, ["db-1", "old-1", "web-1", "web-2", "web-hot"]);
  t.is(all.body.step, 60, "step defaults to 60 s");
  const two = await get(`/v1/query?metric=cpu.usage&agents=db-*,old-?&from=${from}&to=${now}`);
  t.deepEqual(two.body.agents, ["db-1", "old-1"]);
  const data = await get(`/v1/query?metric=disk.used_percent&agents=web-1,db-1&labels=mount:/data&from=${from}&to=${now}&step=120`);
  t.deepEqual(data.body.series.map((s: { agent_id: string; labels: object }) => [s.agent_id, s.labels]), [["db-1", { mount: "/data" }], ["web-1", { mount: "/data" }]]);
  const both = await get(`/v1/query?metric=disk.used_percent&agents=web-1&from=${from}&to=${now}&step=120`);
  t.is(both.body.series.length, 2);
  const one = await get(`/v1/metrics?agent=web-1&metric=disk.used_percent&labels=mount:/data&from=${from}&to=${now}&step=120`);
  t.deepEqual(asBuckets(data.body.timestamps, data.body.series[1]), one.body.series[0].buckets);
});

test("/v1/overview: status online / offline / alerting, last_seen, sparklines of the default metrics", async (t) => {
  const res = await get("/v1/overview");
  t.is(res.status, 200);
  assertDocumented(t, "GET", "/v1/overview", 200, res.body);
  t.deepEqual(res.body.metrics, ["cpu.usage", "memory.used_percent", "disk.used_percent", "network.bytes_recv"]);
  t.is(res.body.step, 30);
  t.is(Date.parse(res.body.to) - Date.parse(res.body.from), 15 * 60_000);
  t.true(res.body.timestamps.length >= 30 && res.body.timestamps.length <= 31);
  const by = Object.fromEntries(res.body.agents.map((a: { agent_id: string }) => [a.agent_id, a]));
  t.like(by["web-1"], { status: "online", active: true, firing_alerts: 0 });
  t.like(by["old-1"], { status: "offline", active: false });
  t.like(by["web-hot"], { status: "alerting", active: true, firing_alerts: 1 });
  t.is(Date.parse(by["old-1"].last_seen), Math.floor((now - 8 * 60_000 - from) / 10_000) * 10_000 + from);
  const metrics = by["web-1"].series.map((s: { metric_name: string; labels: object }) => [s.metric_name, s.labels]);
  t.deepEqual(metrics, [["cpu.usage", {}], ["disk.used_percent", { mount: "/" }], ["disk.used_percent", { mount: "/data" }], ["memory.used_percent", {}]]);
  for (const s of by["web-1"].series) t.is(s.avg.length, res.body.timestamps.length);
  const cpu = by["web-hot"].series[0];
  t.true(cpu.avg.filter((v: number | null) => v !== null).every((v: number) => v === 97));

  const some = await get("/v1/overview?metrics=cpu.usage&agents=web-*&window=5m&step=60");
  t.deepEqual(some.body.agents.map((a: { agent_id: string }) => a.agent_id), ["web-1", "web-2", "web-hot"]);
  t.true(some.body.timestamps.length >= 5 && some.body.timestamps.length <= 6);
  t.true(some.body.agents.every((a: { series: unknown[] }) => a.series.length === 1));
});

test("bounds: a request asking for too much, or malformed, is a 400 naming the field", async (t) => {
  const cases: [string, RegExp][] = [
    ["/v1/overview?window=2d", /^window: must be between/],
    ["/v1/overview?window=lots", /^window: "lots" is not a duration/],
    ["/v1/overview?window=1d&step=1", /^step: gives 86401 buckets over the window; at most 500/],
    ["/v1/overview?metrics=a,b,c,d,e,f,g,h,i", /^metrics: has 9 entries; at most 8/],
    ["/v1/overview?metrics=cpu.usage,,x", /^metrics: has an empty entry/],
    ["/v1/overview?step=0", /^step: must be between 1/],
    ["/v1/query", /^metric: is required/],
    [`/v1/query?metric=cpu.usage&from=${now - 40 * 86_400_000}&to=${now}`, /^from: the range may span at most 31 days/],
    [`/v1/query?metric=cpu.usage&from=${now - 30 * 86_400_000}&to=${now}&step=10`, /^step: 5 agents × 259201 buckets is more than 1,000,000; use a step of at least 13 s/],
    [`/v1/query?metric=cpu.usage&from=${now}&to=${from}`, /^to: must not be before from/],
    ["/v1/query?metric=cpu.usage&agents=a,,b", /^agents: has an empty entry/],
    ["/v1/query?metric=cpu.usage&from=yesterday", /^from: "yesterday" is neither ISO 8601/],
  ];
  for (const [path, pattern] of cases) {
    const res = await get(path);
    t.is(res.status, 400, path);
    t.regex(res.body.error, pattern, path);
    t.is(res.body.code, "INVALID_ARGUMENT");
  }
});

test("/v1/metrics: a misspelt metric of a known agent is a 404 naming its closest metric names; a known one without points stays 200", async (t) => {
  const typo = await get(`/v1/metrics?agent=web-1&metric=cpu.usgae&from=${from}&to=${now}`);
  t.is(typo.status, 404);
  assertDocumented(t, "GET", "/v1/metrics", 404, typo.body);
  t.is(typo.body.error, "agent 'web-1' has no metric 'cpu.usgae'; its closest metric names: cpu.usage, disk.used_percent, memory.used_percent");
  const stepped = await get(`/v1/metrics?agent=web-1&metric=memory.used_prcent&from=${from}&to=${now}&step=60`);
  t.is(stepped.status, 404);
  t.regex(stepped.body.error, /closest metric names: memory\.used_percent,/);
  const empty = await get(`/v1/metrics?agent=web-1&metric=cpu.usage&from=${from - 86_400_000}&to=${from - 3_600_000}`);
  t.is(empty.status, 200);
  t.deepEqual(empty.body.series, []);
  t.is((await get(`/v1/metrics?agent=nobody&metric=cpu.usage&from=${from}&to=${now}`)).status, 404);
});

test("/v1/metrics?format=columns: timestamps and values per series, the same data as the default shape", async (t) => {
  const q = `agent=web-1&metric=disk.used_percent&from=${from}&to=${now}`;
  const pairs = await get(`/v1/metrics?${q}`);
  const columns = await get(`/v1/metrics?${q}&format=columns`);
  t.is(columns.status, 200);
  assertDocumented(t, "GET", "/v1/metrics", 200, columns.body);
  t.is(columns.body.format, "columns");
  t.is(pairs.body.format, undefined, "the default shape is unchanged");
  t.deepEqual(columns.body.series.map((s: { labels: object }) => s.labels), pairs.body.series.map((s: { labels: object }) => s.labels));
  for (const [i, s] of columns.body.series.entries()) {
    t.deepEqual(s.timestamps.map((ts: number, k: number) => [ts, s.values[k]]), pairs.body.series[i].points);
  }
  const bucketPairs = await get(`/v1/metrics?${q}&step=60`);
  const bucketColumns = await get(`/v1/metrics?${q}&step=60&format=columns`);
  assertDocumented(t, "GET", "/v1/metrics", 200, bucketColumns.body);
  for (const [i, s] of bucketColumns.body.series.entries()) {
    t.deepEqual(s.timestamps.map((ts: number, k: number) => [ts, s.min[k], s.max[k], s.avg[k], s.count[k]]), bucketPairs.body.series[i].buckets);
  }
  const bad = await get(`/v1/metrics?${q}&format=xml`);
  t.is(bad.status, 400);
  t.regex(bad.body.error, /^format: "xml" is neither pairs/);
});
