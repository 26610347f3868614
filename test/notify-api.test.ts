import test from "ava";
import { HttpReceiver } from "./helpers/http-receiver.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { adminFetch, getJson, startTestServer, type TestServer } from "./helpers/server.ts";

let server: TestServer;
let rx: HttpReceiver;

test.before(async () => {
  rx = await HttpReceiver.start();
  server = await startTestServer({
    notification: {
      channels: [{ type: "sms", id: "pager", gateway_url: rx.url("/sms"), api_key: "file-secret", phone_numbers: ["+4915112345678"], min_severity: "critical" }],
      silence_windows: [{ start_time: "02:00", end_time: "03:00" }],
    },
  } as never);
});
test.after.always(async () => {
  await server?.stop();
  await rx?.stop();
});

async function send(method: string, path: string, body?: unknown) {
  const res = await adminFetch(server.http + path, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: res.status === 204 ? null : await res.json() as any };
}

test.serial("channels: file channels are listed read-only with secrets masked", async (t) => {
  const list = await getJson(`${server.http}/v1/notifications/channels`);
  t.is(list.status, 200);
  t.like(list.body[0], { id: "pager", type: "sms", api_key: "***", read_only: true, min_severity: "critical", send_resolved: true });
  assertDocumented(t, "GET", "/v1/notifications/channels", 200, list.body);
  t.is((await send("PUT", "/v1/notifications/channels/pager", { type: "sms", gateway_url: rx.url(), api_key: "x", phone_numbers: ["+123456"] })).status, 403);
  t.is((await send("DELETE", "/v1/notifications/channels/pager")).status, 403);
});

test.serial("channels: create, read (masked), update keeping a masked secret, test, delete", async (t) => {
  const bad = await send("POST", "/v1/notifications/channels", { type: "dingtalk", webhook_url: "nope", extra: 1 });
  t.is(bad.status, 400);
  t.regex(bad.body.error, /webhook_url: /);
  t.regex(bad.body.error, /Unrecognized key: "extra"/);
  assertDocumented(t, "POST", "/v1/notifications/channels", 400, bad.body);
  t.is((await send("POST", "/v1/notifications/channels", { type: "carrier-pigeon" })).status, 400);

  const created = await send("POST", "/v1/notifications/channels", { type: "webhook", id: "ops", url: rx.url("/ops"), headers: { authorization: "Bearer s3cret" } });
  t.is(created.status, 201);
  t.like(created.body, { id: "ops", headers: "***", read_only: false, min_severity: "info" });
  assertDocumented(t, "POST", "/v1/notifications/channels", 201, created.body);
  t.is((await send("POST", "/v1/notifications/channels", { type: "webhook", id: "ops", url: rx.url() })).status, 409);

  const fetched = await getJson(`${server.http}/v1/notifications/channels/ops`);
  const updated = await send("PUT", "/v1/notifications/channels/ops", { ...fetched.body, min_severity: "warning" });
  t.is(updated.status, 200);
  t.is(updated.body.min_severity, "warning");

  const tested = await send("POST", "/v1/notifications/channels/ops/test");
  t.is(tested.status, 200);
  t.like(tested.body, { ok: true, status: 200 });
  assertDocumented(t, "POST", "/v1/notifications/channels/{id}/test", 200, tested.body);
  t.is(rx.requests.at(-1)!.headers.authorization, "Bearer s3cret", "the masked secret kept its stored value");
  t.true(rx.requests.at(-1)!.body.test);

  rx.replies.push({ status: 503, body: { down: true } });
  const failing = await send("POST", "/v1/notifications/channels/ops/test");
  t.like(failing.body, { ok: false, retryable: true, status: 503 });

  t.is((await send("DELETE", "/v1/notifications/channels/ops")).status, 204);
  const gone = await send("POST", "/v1/notifications/channels/ops/test");
  t.is(gone.status, 404);
  t.is((await getJson(`${server.http}/v1/notifications/channels/ops`)).status, 404);
});

test.serial("silences: listed with the file's, created, validated, replaced and removed", async (t) => {
  const list = await getJson(`${server.http}/v1/notifications/silences`);
  t.like(list.body[0], { id: "cfg-silence-1", start_time: "02:00", recurrence: "daily", timezone: "UTC", read_only: true });
  assertDocumented(t, "GET", "/v1/notifications/silences", 200, list.body);
  for (const [body, field] of [
    [{ start_time: "25:00", end_time: "03:00" }, "start_time"],
    [{ start_time: "01:00", end_time: "03:00", recurrence: "weekly" }, "days"],
    [{ start_time: "01:00", end_time: "03:00", recurrence: "once" }, "date"],
    [{ start_time: "01:00", end_time: "03:00", timezone: "Mars/Olympus" }, "timezone"],
  ] as const) {
    const res = await send("POST", "/v1/notifications/silences", body);
    t.is(res.status, 400, JSON.stringify(body));
    t.regex(res.body.error, new RegExp(`^${field}: `));
  }
  const created = await send("POST", "/v1/notifications/silences", { start_time: "22:00", end_time: "06:00", recurrence: "weekly", days: ["sat"], timezone: "Europe/Berlin", note: "backups" });
  t.is(created.status, 201);
  assertDocumented(t, "POST", "/v1/notifications/silences", 201, created.body);
  const replaced = await send("PUT", `/v1/notifications/silences/${created.body.id}`, { start_time: "23:00", end_time: "05:00" });
  t.like(replaced.body, { start_time: "23:00", recurrence: "daily" });
  t.is((await send("PUT", "/v1/notifications/silences/cfg-silence-1", { start_time: "01:00", end_time: "02:00" })).status, 403);
  t.is((await send("DELETE", `/v1/notifications/silences/${created.body.id}`)).status, 204);
  t.is((await send("DELETE", `/v1/notifications/silences/${created.body.id}`)).status, 404);
});

test("log: parameters are checked", async (t) => {
  for (const [q, field] of [["?status=lost", "status"], ["?limit=5000", "limit"], ["?offset=-1", "offset"], ["?from=yesterday", "from"]]) {
    const res = await getJson(`${server.http}/v1/notifications/log${q}`);
    t.is(res.status, 400, q);
    t.regex(res.body.error, new RegExp(`^${field}: `));
  }
  const ok = await getJson(`${server.http}/v1/notifications/log?channel=pager&limit=10`);
  t.deepEqual(ok.body, { total: 0, limit: 10, offset: 0, entries: [] });
});

test("a server.toml channel with a bad field stops start-up with its path", async (t) => {
  const { buildServerConfig, ConfigError } = await import("../server/config/load.ts");
  const err = t.throws(() => buildServerConfig({ notification: { channels: [{ type: "telegram", chat_id: 1 }, { type: "email", smtp_host: "h", from: "a@b.c", recipients: ["x@y.z"], smtp_port: 0 }] } }), { instanceOf: ConfigError });
  t.regex(err!.message, /notification\.channels\.0\.bot_token: /);
  t.regex(err!.message, /notification\.channels\.1\.smtp_port: /);
});
