import test from "ava";
import { spawnSync } from "node:child_process";
import parsePrometheus from "parse-prometheus-text-format";
import { ProtoClient, ProtoStream, makeBatch, makeColumnar } from "./helpers/proto-client.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { adminFetch, freshGet, getJson, startTestServer, type TestServer } from "./helpers/server.ts";

let server: TestServer;
let stream: ProtoStream | undefined;

test.before(async () => {
  server = await startTestServer();
  const client = new ProtoClient(server.grpc);
  await client.report(makeBatch("obs-01", Date.now() - 1000, 3));
  await client.report({ agent_id: "", timestamp_ms: Date.now(), data_points: [] }).catch(() => undefined);
  client.close();
  // An open stream, whose one report is refused by the stream itself (a shape it never declared).
  stream = new ProtoStream(server.grpc);
  await stream.send(makeColumnar("obs-02", Date.now() - 1000, 3, 5, false));
  await getJson(`${server.http}/v1/agents/obs-01/latest`);
});
test.after.always(async () => {
  stream?.close();
  await server?.stop();
});

/** Parses with promtool when installed (Debian `prometheus`), and always with a JS parser. */
function parseExposition(t: import("ava").ExecutionContext, text: string): Map<string, any> {
  const promtool = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (promtool.error) t.log("promtool not installed: parsed with parse-prometheus-text-format only");
  else {
    // 1 = unparseable. 3 = lint findings, tolerated only for prom-client's own default gauges.
    const findings = `${promtool.stdout}${promtool.stderr}`.split("\n").filter(Boolean);
    t.true(promtool.status === 0 || promtool.status === 3, `promtool check metrics: ${findings.join("\n")}`);
    for (const f of findings) t.regex(f, /^tsmon_nodejs_active_\w+_total non-counter/, "a lint finding in tsmon's own families");
  }
  return new Map(parsePrometheus(text).map((family: any) => [family.name, family]));
}

test("/metrics is valid Prometheus text with every family tsmon promises", async (t) => {
  const res = await adminFetch(`${server.http}/metrics`);
  t.is(res.status, 200);
  t.regex(res.headers.get("content-type")!, /text\/plain/);
  const text = await res.text();
  const families = parseExposition(t, text);
  for (const name of [
    "tsmon_reports_ingested_total", "tsmon_points_ingested_total", "tsmon_reports_refused_total", "tsmon_memory_releases_total",
    "tsmon_ack_latency_seconds", "tsmon_actor_mailbox_depth", "tsmon_actor_restarts", "tsmon_actor_messages_total",
    "tsmon_lmdb_partition_bytes", "tsmon_alert_events_total", "tsmon_notifications_total",
    "tsmon_http_request_duration_seconds", "tsmon_process_cpu_seconds_total", "tsmon_alert_latency_seconds",
    "tsmon_window_agents", "tsmon_window_bytes_per_agent", "tsmon_window_reports_dropped_total", "tsmon_live_clients",
    "tsmon_report_streams", "tsmon_request_bytes", "tsmon_request_bytes_limit",
  ]) t.true(families.has(name), `missing family ${name}`);
  t.is(Number(families.get("tsmon_reports_ingested_total").metrics[0].value), 1);
  t.is(Number(families.get("tsmon_points_ingested_total").metrics[0].value), 3);
  t.deepEqual(families.get("tsmon_reports_refused_total").metrics.map((m: any) => [m.labels.reason, m.value]), [["INVALID_ARGUMENT", "2"]],
    "one refused by ingest, one by the stream");
  t.is(Number(families.get("tsmon_report_streams").metrics[0].value), 1);
  t.is(Number(families.get("tsmon_request_bytes_limit").metrics[0].value), 64 * 1024 * 1024);
  t.is(Number(families.get("tsmon_request_bytes").metrics[0].value), 0, "nothing held between requests");
  t.is(families.get("tsmon_ack_latency_seconds").metrics[0].count, "1");
  const actors = families.get("tsmon_actor_restarts").metrics.map((m: any) => m.labels.actor).sort();
  t.deepEqual(actors, ["agent-window-0", "cert-checker", "ingest", "notifier-0", "rule-evaluator-0"]);
  const partitions = families.get("tsmon_lmdb_partition_bytes").metrics;
  t.true(partitions.some((m: any) => m.labels.partition === "control" && Number(m.value) > 0));
  t.true(partitions.some((m: any) => /^\d{4}-\d{2}-\d{2}$/.test(m.labels.partition) && Number(m.value) > 0));
  // (The JS parser drops histogram labels, so this one is read from the text.)
  t.regex(text, /^tsmon_http_request_duration_seconds_count\{[^}]*route="\/v1\/agents\/:id\/latest"[^}]*\} 1$/m,
    "durations are labelled by route template, not raw path");
});

test("/metrics/fleet exports the latest value of every agent series as gauges", async (t) => {
  const res = await adminFetch(`${server.http}/metrics/fleet`);
  const families = parseExposition(t, await res.text());
  const samples = families.get("tsmon_metric").metrics;
  t.is(families.get("tsmon_metric").type, "GAUGE");
  t.deepEqual(samples.map((m: any) => `${m.labels.agent_id} ${m.labels.name} ${m.labels.core ?? "-"}`).sort(),
    ["obs-01 cpu.core_usage 0", "obs-01 cpu.core_usage 1", "obs-01 cpu.usage -"]);
});

test("probes: alive and ready, then not ready as soon as shutdown begins", async (t) => {
  const own = await startTestServer({ http: { shutdown_grace_ms: 1500 } });
  const live = await getJson(`${own.http}/healthz`);
  t.deepEqual(live, { status: 200, body: { status: "alive", checks: {} } });
  const ready = await getJson(`${own.http}/readyz`);
  t.is(ready.status, 200);
  t.deepEqual(ready.body, { status: "ready", checks: { storage: true, actors: true, accepting: true } });
  assertDocumented(t, "GET", "/readyz", 200, ready.body);
  const stopping = own.stop();
  const during = await freshGet(`${own.http}/readyz`);
  t.is(during.status, 503);
  t.is(during.body.checks.accepting, false);
  assertDocumented(t, "GET", "/readyz", 503, during.body);
  t.is((await freshGet(`${own.http}/healthz`)).status, 200, "still alive while draining");
  await stopping;
});
