import test from "ava";
import { alertEpisodes } from "../server/reports/alert-episodes.ts";
import { availability, coveredMs, peakFigures, upPercent } from "../server/reports/figures.ts";
import { reportCsv } from "../server/reports/report-csv.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { ProtoClient, type ProtoPoint } from "./helpers/proto-client.ts";
import { getJson, startTestServer, until, type TestServer } from "./helpers/server.ts";

/*
 * GET /v1/reports against a real server fed over real gRPC: web-1 reports for an hour but
 * for a ten-minute gap, runs hot (and alerts) for ten minutes and has a check that was down
 * for a quarter hour; db-1 starts reporting half-way through the hour.
 */

const MIN = 60_000;
let server: TestServer;
const from = Math.floor(Date.now() / MIN) * MIN - 70 * MIN;
const to = from + 60 * MIN;
/** Probes of web-1's check, and how many found it up, as sent. */
let probes = 0, ups = 0;

function web1(ts: number): ProtoPoint[] {
  const minute = Math.floor((ts - from) / MIN);
  const up = minute >= 15 ? 1 : 0;
  probes++;
  ups += up;
  return [
    { timestamp_ms: ts, metric_name: "cpu.usage", value: minute >= 20 && minute < 30 ? 97 : 10 },
    { timestamp_ms: ts, metric_name: "memory.used_percent", value: ts === from + 5 * MIN ? 88 : 50 },
    { timestamp_ms: ts, metric_name: "disk.used_percent", value: 20, labels: { mount: "/" } },
    { timestamp_ms: ts, metric_name: "disk.used_percent", value: 70, labels: { mount: "/data" } },
    { timestamp_ms: ts, metric_name: "check.up", value: up, labels: { check: "api", type: "tcp", target: "api:443" } },
  ];
}

test.before(async () => {
  server = await startTestServer({
    alert: { rules: [{ name: "hot-cpu", type: "threshold", metric: "cpu.usage", agent_pattern: "web-*", operator: "gt", value: 90, duration_secs: 0, severity: "critical" }] },
  });
  const client = new ProtoClient(server.grpc);
  try {
    for (let ts = from; ts < to; ts += 10_000) {
      const minute = Math.floor((ts - from) / MIN);
      if (minute < 40 || minute >= 50) await client.report({ agent_id: "web-1", timestamp_ms: ts, data_points: web1(ts) });
      if (minute >= 30) await client.report({ agent_id: "db-1", timestamp_ms: ts, data_points: [{ timestamp_ms: ts, metric_name: "cpu.usage", value: 5 }] });
    }
  } finally {
    client.close();
  }
  await until("web-1's alert resolved", async () => {
    const h = await getJson(`${server.http}/v1/alerts/history?agent=web-1&status=resolved`);
    return h.body.events?.length ? true : undefined;
  });
});
test.after.always(async () => {
  await server?.stop();
});

const get = (path: string, headers?: Record<string, string>) => getJson(`${server.http}${path}`, headers);

test("pure figures: minutes seen, peaks over minute means, probes up, time covered by overlapping alerts", (t) => {
  t.deepEqual(availability([0, MIN, 3 * MIN], 0, 4 * MIN), { percent: 75, coveredMs: 3 * MIN, intervalMs: MIN });
  // An agent reporting every 5 minutes covers its period; a 3-hour silence among them does not.
  t.like(availability([0, 5 * MIN, 10 * MIN, 15 * MIN], 0, 20 * MIN), { percent: 100, intervalMs: 5 * MIN });
  t.like(availability([0, 5 * MIN, 10 * MIN, 190 * MIN], 0, 200 * MIN), { percent: 10, intervalMs: 5 * MIN });
  t.like(availability([0, 60 * MIN], 0, 120 * MIN), { intervalMs: 15 * MIN }, "a usual gap of an hour is an outage");
  t.is(availability([], 0, 0).percent, null);
  // A spike inside a minute lifts that minute's max, not its mean.
  t.deepEqual(peakFigures([[0, 1, 99, 2, 6], [MIN, 1, 3, 2, 6]]), { p95: 2, max: 99 });
  t.is(peakFigures([]), null);
  t.deepEqual(upPercent([[0, 0, 1, 0.5, 4], [MIN, 1, 1, 1, 4]]), { percent: 75, probes: 8 });
  t.is(upPercent([]), null);
  t.is(coveredMs([[0, 10], [5, 20], [30, 40]], 0, 100), 30);
  t.is(coveredMs([[-50, 10], [90, 500]], 0, 100), 20);
  t.is(coveredMs([], 0, 100), 0);
});

test("alert episodes: a firing before the period shows up by its resolution, a still-firing one by its state", (t) => {
  const base = { rule_id: "r", rule_name: "r", metric: "m", labels: {}, value: 1, threshold: 0, severity: "warning" as const, message: "", predicted_at: null };
  const episodes = alertEpisodes([
    { ...base, id: "e2", episode_id: "e1", status: "resolved", agent_id: "a", fired_at: 100, resolved_at: 300 },
    { ...base, id: "e3", episode_id: "e3", status: "firing", agent_id: "b", fired_at: 400, resolved_at: null },
  ], [
    { rule_id: "r", agent_id: "c", metric: "m", labels: {}, state: "firing", severity: "warning", since: 450, fired_at: 500, episode_id: "e9", silenced: false, last_fired_at: 500, value: 1, threshold: 0, message: "", predicted_at: null, updated_at: 500 },
  ]);
  t.deepEqual(episodes.map((e) => [e.agentId, e.firedAt, e.resolvedAt]), [["a", 100, 300], ["b", 400, null], ["c", 500, null]]);
});

test("CSV: a row per host and per check, quoted where needed, formulas defused", (t) => {
  const csv = reportCsv({
    from: "x", to: "y", generated_at: "z", agents_pattern: "*",
    hosts: [{
      agent_id: "h1", availability_percent: 99.5, covered_minutes: 199, period_minutes: 200, report_interval_secs: 60, alerts: 1, firing_seconds: 60,
      cpu: { p95: 50, max: 90 }, memory: null, disk: { p95: 70, max: 71, mount: "/data" },
      checks: [{ check: "=HYPERLINK(\"x\")", type: "http", target: "http://a/b,c", availability_percent: 100, probes: 3 }],
    }],
  });
  const lines = csv.split("\r\n");
  t.true(lines[0]!.startsWith("kind,agent_id,check,type,target,availability_percent"));
  t.is(lines[1], "host,h1,,,,99.5,199,200,60,,1,60,50,90,,,70,71,/data");
  t.is(lines[2], `check,h1,"'=HYPERLINK(""x"")",http,"http://a/b,c",100,,,,3,,,,,,,,,`);
  t.is(lines[3], "");
});

test("GET /v1/reports: availability, alerts, peaks and checks of each host, as documented", async (t) => {
  const res = await get(`/v1/reports?from=${new Date(from).toISOString()}&to=${to}`);
  t.is(res.status, 200, JSON.stringify(res.body));
  assertDocumented(t, "GET", "/v1/reports", 200, res.body);
  t.deepEqual(res.body.hosts.map((h: { agent_id: string }) => h.agent_id), ["db-1", "web-1"]);
  const [db, web] = res.body.hosts;

  // 50 of 60 minutes; db-1 is counted from its first report, so its 30 minutes are all there.
  t.like(web, { availability_percent: 83.33, covered_minutes: 50, period_minutes: 60, report_interval_secs: 60 });
  t.like(db, { availability_percent: 100, covered_minutes: 30, period_minutes: 30, alerts: 0, firing_seconds: 0, memory: null, disk: null, checks: [] });

  const history = await get(`/v1/alerts/history?agent=web-1&status=resolved`);
  const resolved = history.body.events[0];
  t.is(web.alerts, 1);
  t.is(web.firing_seconds, Math.round((Date.parse(resolved.resolved_at) - Date.parse(resolved.fired_at)) / 1000));
  t.true(web.firing_seconds >= 9 * 60, `about ten minutes hot, got ${web.firing_seconds} s`);

  t.deepEqual(web.cpu, { p95: 97, max: 97 });
  t.deepEqual(web.memory, { p95: 50, max: 88 }, "the one-point spike is the max, not the p95");
  t.deepEqual(web.disk, { p95: 70, max: 70, mount: "/data" });
  t.deepEqual(web.checks, [{ check: "api", type: "tcp", target: "api:443", availability_percent: Math.round((10_000 * ups) / probes) / 100, probes }]);

  const narrowed = await get(`/v1/reports?from=${from}&to=${to}&agents=db-*`);
  t.deepEqual(narrowed.body.hosts.map((h: { agent_id: string }) => h.agent_id), ["db-1"]);
  t.is(narrowed.body.agents_pattern, "db-*");
});

test("GET /v1/reports?format=csv: the same figures as text/csv", async (t) => {
  const { adminFetch } = await import("./helpers/server.ts");
  const res = await adminFetch(`${server.http}/v1/reports?from=${from}&to=${to}&format=csv`);
  t.is(res.status, 200);
  t.regex(res.headers.get("content-type") ?? "", /^text\/csv/);
  t.regex(res.headers.get("content-disposition") ?? "", /attachment; filename="tsmon-report-/);
  const rows = (await res.text()).trim().split("\r\n").map((l) => l.split(","));
  t.deepEqual(rows.map((r) => [r[0], r[1], r[2]]), [["kind", "agent_id", "check"], ["host", "db-1", ""], ["host", "web-1", ""], ["check", "web-1", "api"]]);
  t.is(rows[2]![5], "83.33");
});

test("GET /v1/reports refuses bad periods and formats, naming the parameter, and callers without a role", async (t) => {
  const cases: [string, RegExp][] = [
    [`/v1/reports?to=${to}`, /from/],
    [`/v1/reports?from=${to}&to=${from}`, /to/],
    [`/v1/reports?from=${from}&to=${from + 32 * 24 * 60 * MIN}`, /31 days/],
    [`/v1/reports?from=yesterday&to=${to}`, /from/],
    [`/v1/reports?from=${from}&to=${to}&format=xml`, /format/],
  ];
  for (const [path, message] of cases) {
    const res = await get(path);
    t.is(res.status, 400, path);
    t.regex(JSON.stringify(res.body), message, path);
  }
  const anonymous = await get(`/v1/reports?from=${from}&to=${to}`, {});
  t.is(anonymous.status, 401);
});
