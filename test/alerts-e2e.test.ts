import test from "ava";
import { setTimeout as sleep } from "node:timers/promises";
import { ProtoClient } from "./helpers/proto-client.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { adminFetch, getJson, startTestServer, type TestServer, until } from "./helpers/server.ts";
import { LiveClient } from "./helpers/ws-client.ts";

let server: TestServer;
let client: ProtoClient;
const base = Date.now() - 600_000;

test.before(async () => {
  server = await startTestServer({
    alert: { rules: [{ name: "high-cpu", type: "threshold", metric: "cpu.usage", agent_pattern: "web-*", operator: "gt", value: 90, duration_secs: 20, severity: "critical" }] },
  });
  client = new ProtoClient(server.grpc);
});
test.after.always(async () => {
  client?.close();
  await server?.stop();
});

const cpu = (agent: string, s: number, value: number) =>
  client.report({ agent_id: agent, timestamp_ms: base + s * 1000, data_points: [{ timestamp_ms: base + s * 1000, metric_name: "cpu.usage", value }] });

async function history(query = ""): Promise<any> {
  return (await getJson(`${server.http}/v1/alerts/history${query}`)).body;
}

test.serial("a breach over gRPC fires once, shows as active, and resolves once on recovery", async (t) => {
  const live = await LiveClient.connect(server.http.replace("http", "ws") + "/v1/live");
  t.teardown(() => live.close());
  live.send({ type: "subscribe", agents: ["web-*"], metrics: [] });
  await live.next((m) => m.type === "subscribed");

  await cpu("web-1", 0, 95);
  await cpu("web-1", 10, 96);
  await cpu("db-1", 10, 99); // not matched by agent_pattern
  const sent = performance.now();
  await cpu("web-1", 20, 97); // 20 s of breach: fires
  const fired = await until("the firing event", async () => {
    const h = await history();
    return h.total >= 1 ? h : undefined;
  });
  t.log(`report acknowledged → firing event in history: ${(performance.now() - sent).toFixed(1)} ms (polled)`);
  t.is(fired.total, 1);
  const e = fired.events[0];
  t.like(e, { status: "firing", rule_id: "cfg-high-cpu", rule_name: "high-cpu", agent_id: "web-1", metric: "cpu.usage", value: 97, threshold: 90, severity: "critical", resolved_at: null });
  t.is(e.fired_at, new Date(base + 20_000).toISOString());
  t.regex(e.message, /^\[critical\] high-cpu on web-1: cpu\.usage is 97 \(> 90\)/);
  assertDocumented(t, "GET", "/v1/alerts/history", 200, fired);

  const active = await getJson(`${server.http}/v1/alerts/active`);
  t.is(active.body.length, 1);
  t.like(active.body[0], { rule_id: "cfg-high-cpu", agent_id: "web-1", silenced: false, since: new Date(base).toISOString() });
  assertDocumented(t, "GET", "/v1/alerts/active", 200, active.body);

  await cpu("web-1", 30, 98); // still firing: no new event
  await cpu("web-1", 40, 40); // recovery
  const resolved = await until("the resolved event", async () => {
    const h = await history("?status=resolved");
    return h.total >= 1 ? h : undefined;
  });
  t.like(resolved.events[0], { status: "resolved", agent_id: "web-1", value: 40 });
  t.is(resolved.events[0].resolved_at, new Date(base + 40_000).toISOString());
  await sleep(200);
  t.is((await history()).total, 2, "exactly one firing and one resolved event");
  t.deepEqual((await getJson(`${server.http}/v1/alerts/active`)).body, []);

  const firing = await live.next((m) => m.type === "alert" && m.event.status === "firing");
  t.is(firing.event.agent_id, "web-1");
  await live.next((m) => m.type === "alert" && m.event.status === "resolved");
  // Both events' latencies are on /metrics, split into the stages an operator can act on.
  const exposition = await until("stage timings of both events", async () => {
    const text = await (await adminFetch(`${server.http}/metrics`)).text();
    return /^tsmon_alert_stage_seconds_count\{stage="evaluate"\} 2$/m.test(text) ? text : undefined;
  });
  for (const stage of ["ingest", "window"]) t.regex(exposition, new RegExp(`^tsmon_alert_stage_seconds_count\\{stage="${stage}"\\} 2$`, "m"));
  t.regex(exposition, /^tsmon_alert_latency_seconds_count 2$/m);

  // The backtest over the same stored history finds exactly the live episode.
  const res = await adminFetch(`${server.http}/v1/alerts/rules/test`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ rule_id: "cfg-high-cpu", from: base - 1, to: base + 60_000 }),
  });
  const bt = await res.json() as any;
  t.is(res.status, 200);
  assertDocumented(t, "POST", "/v1/alerts/rules/test", 200, bt);
  t.is(bt.agents, 1, "web-1 only (db-1 does not match web-*)");
  t.deepEqual(bt.episodes.map((ep: any) => [ep.agent_id, ep.fired_at, ep.resolved_at]), [["web-1", e.fired_at, resolved.events[0].resolved_at]]);
});

test.serial("history filters and pages with the total count", async (t) => {
  const all = await history("?limit=1");
  t.is(all.total, 2);
  t.is(all.events.length, 1);
  t.is(all.events[0].status, "resolved", "newest first");
  t.is((await history("?limit=1&offset=1")).events[0].status, "firing");
  t.is((await history("?severity=warning")).total, 0);
  t.is((await history("?agent=web-1&rule=high-cpu")).total, 2);
  t.is((await history(`?to=${base + 30_000}`)).total, 1);
  for (const [q, field] of [["?severity=fatal", "severity"], ["?status=open", "status"], ["?limit=0", "limit"], ["?limit=x", "limit"], ["?from=soon", "from"]]) {
    const res = await getJson(`${server.http}/v1/alerts/history${q}`);
    t.is(res.status, 400, q);
    t.regex(res.body.error, new RegExp(`^${field}: `));
  }
});

async function send(method: string, path: string, body?: unknown) {
  const res = await adminFetch(server.http + path, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: res.status === 204 ? null : await res.json() as any };
}

test.serial("rules through REST: validation names each field; config rules are read-only; changes take effect", async (t) => {
  const bad = await send("POST", "/v1/alerts/rules", { type: "threshold", metric: "memory.used_percent", operator: "above", value: "high" });
  t.is(bad.status, 400);
  t.regex(bad.body.error, /name: /);
  t.regex(bad.body.error, /operator: /);
  t.regex(bad.body.error, /value: /);
  assertDocumented(t, "POST", "/v1/alerts/rules", 400, bad.body);
  t.is((await send("POST", "/v1/alerts/rules", { name: "x", type: "nonsense", metric: "m" })).status, 400);
  t.is((await send("POST", "/v1/alerts/rules", [1])).status, 400);
  const tiers = await send("POST", "/v1/alerts/rules", { name: "c", type: "cert_expiration", warning_days: 7, critical_days: 30 });
  t.is(tiers.status, 400);
  t.regex(tiers.body.error, /critical_days: critical_days must not exceed warning_days/);

  const created = await send("POST", "/v1/alerts/rules", {
    name: "db-memory", type: "threshold", metric: "memory.used_percent", agent_pattern: "db-*", operator: "gte", value: 80, severity: "warning",
  });
  t.is(created.status, 201);
  assertDocumented(t, "POST", "/v1/alerts/rules", 201, created.body);
  t.like(created.body, { source: "api", read_only: false, duration_secs: 0, labels: {} });
  const id = created.body.id;
  t.is((await send("POST", "/v1/alerts/rules", { ...created.body })).status, 409, "the same id again");

  const list = await getJson(`${server.http}/v1/alerts/rules`);
  t.deepEqual(list.body.map((r: any) => [r.name, r.read_only]), [["high-cpu", true], ["db-memory", false]]);
  assertDocumented(t, "GET", "/v1/alerts/rules", 200, list.body);

  await client.report({ agent_id: "db-7", timestamp_ms: base + 100_000, data_points: [{ timestamp_ms: base + 100_000, metric_name: "memory.used_percent", value: 85 }] });
  const fired = await until("the new rule's event", async () => {
    const h = await history("?agent=db-7");
    return h.total ? h : undefined;
  });
  t.like(fired.events[0], { rule_id: id, severity: "warning", status: "firing" });

  const forbidden = await send("PUT", "/v1/alerts/rules/cfg-high-cpu", { name: "x", type: "threshold", metric: "m", operator: "gt", value: 1 });
  t.is(forbidden.status, 403);
  t.regex(forbidden.body.error, /read-only; edit server\.toml/);
  t.is((await send("DELETE", "/v1/alerts/rules/cfg-high-cpu")).status, 403);

  const replaced = await send("PUT", `/v1/alerts/rules/${id}`, { ...created.body, value: 99 });
  t.is(replaced.status, 200);
  t.is(replaced.body.value, 99);
  t.is((await getJson(`${server.http}/v1/alerts/rules/${id}`)).body.value, 99);
  t.is((await send("DELETE", `/v1/alerts/rules/${id}`)).status, 204);
  t.is((await send("DELETE", `/v1/alerts/rules/${id}`)).status, 404);
  const missing = await getJson(`${server.http}/v1/alerts/rules/${id}`);
  t.is(missing.status, 404);
  assertDocumented(t, "GET", "/v1/alerts/rules/{id}", 404, missing.body);
});

test.serial("backtest refuses what it cannot run", async (t) => {
  const cases: [unknown, number, RegExp][] = [
    [{ from: base, to: base + 1 }, 400, /^rule_id: give rule_id/],
    [{ rule_id: "nope", from: base, to: base + 1 }, 404, /no alert rule 'nope'/],
    [{ rule_id: "cfg-high-cpu", from: base, to: base + 40 * 86_400_000 }, 400, /at most 31 days/],
    [{ rule_id: "cfg-high-cpu", from: "later", to: base }, 400, /^from: /],
    [{ rule: { name: "x", type: "threshold", metric: "m" }, from: base, to: base + 1 }, 400, /operator: /],
    [{ rule_id: "cfg-high-cpu", from: base, to: base + 1, extra: 1 }, 400, /Unrecognized key/],
  ];
  for (const [body, status, message] of cases) {
    const res = await send("POST", "/v1/alerts/rules/test", body);
    t.is(res.status, status, JSON.stringify(body));
    t.regex(res.body.error, message);
  }
  const inline = await send("POST", "/v1/alerts/rules/test", {
    rule: { name: "any-cpu", type: "threshold", metric: "cpu.usage", operator: "gt", value: 90 }, agent_pattern: "*", from: base - 1, to: base + 60_000,
  });
  t.is(inline.status, 200);
  // duration 0 over every agent: web-1 breached from 0 s to its recovery at 40 s; db-1 at 10 s, never recovered.
  t.deepEqual(inline.body.episodes.map((e: any) => [e.agent_id, e.fired_at, e.resolved_at]), [
    ["web-1", new Date(base).toISOString(), new Date(base + 40_000).toISOString()],
    ["db-1", new Date(base + 10_000).toISOString(), null],
  ]);
});
