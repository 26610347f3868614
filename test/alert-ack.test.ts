import test from "ava";
import { ProtoClient } from "./helpers/proto-client.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { adminFetch, getJson, startTestServer, type TestServer, until } from "./helpers/server.ts";

/*
 * Acknowledging a firing alert (POST /v1/alerts/active/ack): shown with the alert until its
 * episode ends, operators and up only, and a clear 4xx for a bad or unknown episode.
 */
let server: TestServer;
let client: ProtoClient;
const base = Date.now() - 600_000;

test.before(async () => {
  server = await startTestServer({
    alert: { rules: [{ name: "hot", type: "threshold", metric: "cpu.usage", agent_pattern: "*", operator: "gt", value: 90, duration_secs: 0, severity: "critical" }] },
  });
  client = new ProtoClient(server.grpc);
});
test.after.always(async () => {
  client?.close();
  await server?.stop();
});

const cpu = (s: number, value: number) =>
  client.report({ agent_id: "web-1", timestamp_ms: base + s * 1000, data_points: [{ timestamp_ms: base + s * 1000, metric_name: "cpu.usage", value }] });
const post = (body: unknown, headers: Record<string, string> = {}) =>
  adminFetch(`${server.http}/v1/alerts/active/ack`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const activeNow = async () => (await getJson(`${server.http}/v1/alerts/active`)).body as { episode_id: string; acknowledged_by: string | null; ack_note: string | null }[];

async function viewerToken(): Promise<string> {
  const made = await adminFetch(`${server.http}/v1/users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "watcher", password: "Quiet-river-5521", role: "viewer" }) });
  if (made.status !== 201) throw new Error(`creating the viewer failed: ${made.status}`);
  const login = await fetch(`${server.http}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "watcher", password: "Quiet-river-5521" }) });
  return ((await login.json()) as { token: string }).token;
}

test.serial("an operator acknowledges a firing episode; a viewer may not; the next episode starts unacknowledged", async (t) => {
  await cpu(0, 95);
  const firing = await until("the alert", async () => (await activeNow()).find((a) => a.episode_id) ?? undefined);
  t.is(firing!.acknowledged_by, null);
  assertDocumented(t, "GET", "/v1/alerts/active", 200, await activeNow());

  const token = await viewerToken();
  const refused = await fetch(`${server.http}/v1/alerts/active/ack`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ episode_id: firing!.episode_id }) });
  t.is(refused.status, 403);
  t.is((await activeNow())[0]!.acknowledged_by, null);

  const res = await post({ episode_id: firing!.episode_id, note: "on it" });
  t.is(res.status, 200);
  const body = await res.json();
  assertDocumented(t, "POST", "/v1/alerts/active/ack", 200, body);
  t.like(body, { episode_id: firing!.episode_id, acknowledged_by: "admin", ack_note: "on it" });
  t.like((await activeNow())[0], { acknowledged_by: "admin", ack_note: "on it" });

  // Resolve, then fire again: a new episode, not acknowledged.
  await cpu(10, 20);
  await until("the resolution", async () => ((await activeNow()).length === 0 ? true : undefined));
  await cpu(20, 97);
  const again = await until("the next episode", async () => (await activeNow()).find((a) => a.episode_id) ?? undefined);
  t.not(again!.episode_id, firing!.episode_id);
  t.is(again!.acknowledged_by, null);

  const withdrawn = await adminFetch(`${server.http}/v1/alerts/active/ack/${encodeURIComponent(again!.episode_id)}`, { method: "DELETE" });
  t.is(withdrawn.status, 404, "nothing to withdraw yet");
  t.is((await post({ episode_id: again!.episode_id })).status, 200);
  const gone = await adminFetch(`${server.http}/v1/alerts/active/ack/${encodeURIComponent(again!.episode_id)}`, { method: "DELETE" });
  t.is(gone.status, 204);
  t.is((await activeNow())[0]!.acknowledged_by, null);
});

test.serial("bad input: a clear 4xx naming the problem, nothing stored", async (t) => {
  const unknown = await post({ episode_id: "no-such-episode" });
  t.is(unknown.status, 404);
  t.regex((await unknown.json()).error, /no alert fires with episode_id 'no-such-episode'/);
  const missing = await post({ note: "x" });
  t.is(missing.status, 400);
  t.regex((await missing.json()).error, /episode_id/);
  const extra = await post({ episode_id: "x", colour: "red" });
  t.is(extra.status, 400);
  const long = await post({ episode_id: "x", note: "n".repeat(501) });
  t.is(long.status, 400);
  t.regex((await long.json()).error, /note/);
  for (const a of await activeNow()) t.is(a.acknowledged_by, null);
});
