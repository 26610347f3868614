import test from "ava";
import type { ServerConfigInput } from "../server/config/schema.ts";
import { silenceOf, type AlertSilence } from "../server/notify/alert-silences.ts";
import { HttpReceiver } from "./helpers/http-receiver.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { ProtoClient } from "./helpers/proto-client.ts";
import { adminFetch, getJson, startTestServer, until, type TestServer } from "./helpers/server.ts";

/*
 * Alert silences end to end: reports over real gRPC breach a rule, the notifier delivers to a
 * real HTTP receiver, except what a silence (of an agent, or of one firing alert) swallows.
 */

const base = Date.now() - 600_000;
let server: TestServer;
let rx: HttpReceiver;
let client: ProtoClient;

test.before(async () => {
  rx = await HttpReceiver.start();
  server = await startTestServer({
    alert: { rules: [{ name: "hot", type: "threshold", metric: "cpu.usage", operator: "gt", value: 90, severity: "critical" }] },
    notification: { aggregation_window_secs: 0, quick_retry_ms: 100, slow_retry_secs: 1, channels: [{ type: "webhook", id: "hook", url: rx.url("/hook") }] },
  } as Partial<ServerConfigInput>);
  client = new ProtoClient(server.grpc);
});
test.after.always(async () => {
  client?.close();
  await server?.stop();
  await rx?.stop();
});

const cpu = (agent: string, s: number, value: number) =>
  client.report({ agent_id: agent, timestamp_ms: base + s * 1000, data_points: [{ timestamp_ms: base + s * 1000, metric_name: "cpu.usage", value }] });
const post = (body: unknown, headers: Record<string, string> = {}) =>
  adminFetch(`${server.http}/v1/alerts/silences`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const received = () => rx.requests.flatMap((r) => r.body.alerts?.map((a: { agent_id: string; status: string }) => `${a.agent_id} ${a.status}`) ?? []);
const suppressedLog = async () => (await getJson(`${server.http}/v1/notifications/log?status=suppressed`)).body.entries as { detail: string; events: { agent_id: string; status: string }[] }[];

test("matching: by rule, by agent, both; an ended silence matches nothing; the longest wins", (t) => {
  const s = (id: string, fields: Partial<AlertSilence>): AlertSilence => ({ id, ends_at: 1_000, created_at: 0, created_by: "t", note: "", ...fields });
  const silences = [s("rule", { rule_id: "r1" }), s("agent", { agent_id: "a1", ends_at: 2_000 }), s("both", { rule_id: "r2", agent_id: "a2" }), s("old", { agent_id: "a3", ends_at: 10 })];
  t.is(silenceOf(silences, { rule_id: "r1", agent_id: "zz" }, 500)?.id, "rule");
  t.is(silenceOf(silences, { rule_id: "r1", agent_id: "a1" }, 500)?.id, "agent");
  t.is(silenceOf(silences, { rule_id: "r2", agent_id: "a2" }, 500)?.id, "both");
  t.is(silenceOf(silences, { rule_id: "r2", agent_id: "a9" }, 500), undefined);
  t.is(silenceOf(silences, { rule_id: "r9", agent_id: "a3" }, 500), undefined);
  t.is(silenceOf(silences, { rule_id: "r1", agent_id: "zz" }, 1_000), undefined, "over at ends_at");
});

test.serial("a silenced agent's alerts are dropped (and logged so) while another agent's go out; the next episode after it ends goes out", async (t) => {
  const res = await post({ agent_id: "web-7", duration_secs: 600, note: "rebuilding web-7" });
  t.is(res.status, 201);
  const silence = await res.json() as { id: string; agent_id: string; ends_at: string; created_by: string };
  assertDocumented(t, "POST", "/v1/alerts/silences", 201, silence);
  t.like(silence, { agent_id: "web-7", created_by: "admin" });
  const listed = await getJson(`${server.http}/v1/alerts/silences`);
  assertDocumented(t, "GET", "/v1/alerts/silences", 200, listed.body);
  t.deepEqual(listed.body.map((s: { id: string }) => s.id), [silence.id]);

  await cpu("web-7", 0, 95);
  await cpu("web-8", 0, 99);
  await until("web-8 delivered", async () => (received().includes("web-8 firing") ? true : undefined));
  await until("web-7's firing dropped", async () => ((await suppressedLog()).some((e) => e.events.some((ev) => ev.agent_id === "web-7")) ? true : undefined));
  const entry = (await suppressedLog()).find((e) => e.events.some((ev) => ev.agent_id === "web-7"))!;
  t.regex(entry.detail, new RegExp(`alert silenced \\(${silence.id}, by admin\\) until `));

  t.is((await adminFetch(`${server.http}/v1/alerts/silences/${silence.id}`, { method: "DELETE" })).status, 204);
  // Its resolution goes nowhere (the firing never went); a new episode goes out.
  await cpu("web-7", 10, 40);
  await cpu("web-7", 20, 97);
  await until("web-7's next episode delivered", async () => (received().includes("web-7 firing") ? true : undefined));
  await new Promise((r) => setTimeout(r, 1_500));
  t.deepEqual(received().filter((a) => a.startsWith("web-7")), ["web-7 firing"]);
});

test.serial("silencing one firing alert by its episode drops its resolution too", async (t) => {
  await cpu("db-1", 0, 99);
  await until("db-1 delivered", async () => (received().includes("db-1 firing") ? true : undefined));
  const active = (await getJson(`${server.http}/v1/alerts/active`)).body as { agent_id: string; rule_id: string; episode_id: string }[];
  const alert = active.find((a) => a.agent_id === "db-1")!;
  const res = await post({ episode_id: alert.episode_id, duration_secs: 3_600 });
  t.is(res.status, 201);
  t.like(await res.json(), { rule_id: alert.rule_id, agent_id: "db-1" });
  await cpu("db-1", 10, 20);
  await until("db-1's resolution dropped", async () => ((await suppressedLog()).some((e) => e.events.some((ev) => ev.agent_id === "db-1" && ev.status === "resolved")) ? true : undefined));
  t.false(received().includes("db-1 resolved"));
});

test("bad silences are refused, naming what is wrong, and callers without credentials (roles: access.test.ts)", async (t) => {
  const cases: [unknown, number, RegExp][] = [
    [{ duration_secs: 600 }, 400, /episode_id, rule_id or agent_id/],
    [{ agent_id: "a", duration_secs: 5 }, 400, /duration_secs/],
    [{ agent_id: "a", duration_secs: 600, colour: "red" }, 400, /colour/],
    [{ agent_id: "a" }, 400, /duration_secs/],
    [{ episode_id: "no-such-episode", duration_secs: 600 }, 404, /no alert fires/],
    ["not an object", 400, /./],
  ];
  for (const [body, status, message] of cases) {
    const res = await post(body);
    t.is(res.status, status, JSON.stringify(body));
    t.regex(await res.text(), message, JSON.stringify(body));
  }
  const malformed = await adminFetch(`${server.http}/v1/alerts/silences`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
  t.is(malformed.status, 400);
  t.is((await adminFetch(`${server.http}/v1/alerts/silences/nope`, { method: "DELETE" })).status, 404);
  const anonymous = await fetch(`${server.http}/v1/alerts/silences`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ agent_id: "a", duration_secs: 600 }) });
  t.is(anonymous.status, 401);
  t.is((await fetch(`${server.http}/v1/alerts/silences`)).status, 401);
});
