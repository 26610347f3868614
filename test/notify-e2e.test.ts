import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ServerConfigInput } from "../server/config/schema.ts";
import { spawnServer, writeServerConfig } from "../scripts/lib/server-process.ts";
import { HttpReceiver } from "./helpers/http-receiver.ts";
import { ProtoClient } from "./helpers/proto-client.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { adminFetch, getJson, startTestServer, type TestServer, until } from "./helpers/server.ts";

/*
 * The notifier end to end: reports over gRPC breach a rule, the evaluator's events reach
 * real HTTP receivers through the durable pipeline. Retries are shortened (100 ms quick,
 * 1 s slow) so faults play out in seconds.
 */

const base = Date.now() - 600_000;
const rule = { name: "hot", type: "threshold", metric: "cpu.usage", operator: "gt", value: 90, severity: "critical" };

async function setup(t: import("ava").ExecutionContext, notification: Record<string, unknown> = {}, rx?: HttpReceiver) {
  const receiver = rx ?? await HttpReceiver.start();
  const server = await startTestServer({
    alert: { rules: [rule] },
    notification: {
      aggregation_window_secs: 0, quick_retry_ms: 100, slow_retry_secs: 1,
      channels: [{ type: "webhook", id: "hook", url: receiver.url("/hook") }],
      ...notification,
    },
  } as Partial<ServerConfigInput>);
  const client = new ProtoClient(server.grpc);
  t.teardown(async () => {
    client.close();
    await server.stop();
    await receiver.stop();
  });
  const cpu = (agent: string, s: number, value: number) =>
    client.report({ agent_id: agent, timestamp_ms: base + s * 1000, data_points: [{ timestamp_ms: base + s * 1000, metric_name: "cpu.usage", value }] });
  return { server, rx: receiver, cpu };
}

const log = async (server: TestServer, q = "") => (await getJson(`${server.http}/v1/notifications/log${q}`)).body;
const agentsIn = (rx: HttpReceiver) => rx.requests.flatMap((r) => r.body.alerts?.map((a: any) => `${a.agent_id} ${a.status}`) ?? []);

test("a receiver answering 500 twice then 200 gets the alert once; three attempts are logged", async (t) => {
  const { server, rx, cpu } = await setup(t);
  rx.replies.push({ status: 500 }, { status: 500 });
  await cpu("web-1", 0, 95);
  const entries = await until("the delivery", async () => {
    const l = await log(server);
    return l.entries.some((e: any) => e.status === "sent") ? l.entries : undefined;
  });
  t.deepEqual(entries.map((e: any) => [e.status, e.attempt, e.http_status]).reverse(), [["retry", 1, 500], ["retry", 2, 500], ["sent", 3, 200]]);
  t.is(rx.requests.length, 3);
  t.is(new Set(rx.requests.map((r) => r.headers["x-tsmon-notification-id"])).size, 1, "one notification id across retries");
  t.deepEqual(agentsIn(rx).slice(-1), ["web-1 firing"]);
  assertDocumented(t, "GET", "/v1/notifications/log", 200, await log(server));
});

test("a receiver that is down while alerts arrive gets every one, once, when it returns", async (t) => {
  const { server, rx, cpu } = await setup(t);
  await rx.stop();
  await cpu("web-1", 0, 95);
  await cpu("web-2", 0, 96);
  await cpu("web-1", 10, 50); // resolved while the receiver is still down
  await until("retries on the slow schedule", async () => ((await log(server, "?status=retry")).total >= 9 ? true : undefined));
  await rx.listen(); // back on the same port
  await until("everything delivered", async () => (agentsIn(rx).length >= 3 ? true : undefined));
  await new Promise((r) => setTimeout(r, 1500));
  t.deepEqual(agentsIn(rx).sort(), ["web-1 firing", "web-1 resolved", "web-2 firing"]);
});

test("with the default 60 s window the first page goes out at once, exactly once; later events in the window wait for it", async (t) => {
  const { server, rx, cpu } = await setup(t, { aggregation_window_secs: 60 });
  t.is(server.config.notification.group_wait_secs, 0);
  const reported = Date.now();
  await cpu("web-1", 0, 97);
  await until("the first page", async () => (rx.requests.length ? true : undefined), 10_000);
  const firstAfter = Date.now() - reported;
  t.true(firstAfter < 10_000, `first page after ${firstAfter} ms`);
  await Promise.all([cpu("web-2", 0, 98), cpu("web-3", 0, 99)]);
  await new Promise((r) => setTimeout(r, 2_000));
  t.deepEqual(agentsIn(rx), ["web-1 firing"], "the first page once; the others wait for the window");
});

// The same grouping on a 5 s window, so the follow-up comes within the test's time.
test("events within the window after the first page arrive as one follow-up when the window ends", async (t) => {
  const { rx, cpu } = await setup(t, { aggregation_window_secs: 5 });
  await cpu("web-1", 0, 97);
  await until("the first page", async () => (rx.requests.length ? true : undefined), 10_000);
  const firstAt = Date.now();
  await Promise.all([cpu("web-2", 0, 98), cpu("web-3", 0, 99)]);
  await until("the follow-up", async () => (rx.requests.length >= 2 ? true : undefined), 30_000);
  await new Promise((r) => setTimeout(r, 1_500));
  t.is(rx.requests.length, 2, "one follow-up");
  t.deepEqual(rx.requests[1]!.body.alerts.map((a: any) => a.agent_id), ["web-2", "web-3"]);
  t.true(Date.now() - firstAt >= 4_000, "sent when the window ends");
  t.not(rx.requests[0]!.headers["x-tsmon-notification-id"], rx.requests[1]!.headers["x-tsmon-notification-id"]);
});

test("a silence window holds deliveries; when it ends, alerts that resolved meanwhile are not replayed", async (t) => {
  const { server, rx, cpu } = await setup(t);
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  const now = Date.now();
  const silence = await adminFetch(`${server.http}/v1/notifications/silences`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ start_time: hhmm(now - 60_000), end_time: hhmm(now + 10 * 60_000), recurrence: "daily", timezone: "UTC", note: "maintenance" }),
  });
  t.is(silence.status, 201);
  const { id } = await silence.json() as { id: string };
  await cpu("web-7", 0, 95); // fires and resolves inside the window
  await cpu("web-7", 10, 40);
  await cpu("web-8", 0, 99); // still firing when the window ends
  await until("three deliveries held", async () => ((await log(server, "?status=held")).total >= 3 ? true : undefined), 60_000,
    async () => `notification log: ${JSON.stringify((await log(server)).entries)}; alert history: ${JSON.stringify((await getJson(`${server.http}/v1/alerts/history`)).body)}`);
  t.is(rx.requests.length, 0, "nothing sent during the window");
  t.is((await adminFetch(`${server.http}/v1/notifications/silences/${id}`, { method: "DELETE" })).status, 204);
  await until("web-8 delivered", async () => (rx.requests.length ? true : undefined));
  await new Promise((r) => setTimeout(r, 1500));
  t.deepEqual(agentsIn(rx), ["web-8 firing"]);
  const suppressed = await log(server, "?status=suppressed");
  t.deepEqual(suppressed.entries.flatMap((e: any) => e.events.map((ev: any) => `${ev.agent_id} ${ev.status}`)).sort(), ["web-7 firing", "web-7 resolved"]);
});

test("killed with SIGKILL while deliveries wait, the server delivers them after a restart, once", async (t) => {
  const rx = await HttpReceiver.start();
  const port = rx.port;
  await rx.stop();
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-notify-kill-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const extra = `[[alert.rules]]\nname = "hot"\ntype = "threshold"\nmetric = "cpu.usage"\noperator = "gt"\nvalue = 90\n` +
    `[notification]\naggregation_window_secs = 0\nquick_retry_ms = 100\nslow_retry_secs = 1\n` +
    `[[notification.channels]]\ntype = "webhook"\nid = "hook"\nurl = "http://127.0.0.1:${port}/hook"\n`;
  const { file, ports } = await writeServerConfig(dir, { extra });
  const first = await spawnServer(file, ports);
  t.teardown(() => { first.child.kill("SIGKILL"); });
  const client = new ProtoClient(first.grpc);
  await client.report({ agent_id: "web-9", timestamp_ms: base, data_points: [{ timestamp_ms: base, metric_name: "cpu.usage", value: 99 }] });
  client.close();
  await until("a failed attempt", async () => ((await log({ http: first.http } as TestServer, "?status=retry")).total >= 1 ? true : undefined));
  first.child.kill("SIGKILL");
  await first.exited;

  await rx.listen();
  t.teardown(() => rx.stop());
  const second = await spawnServer(file, ports);
  t.teardown(() => { second.child.kill("SIGKILL"); });
  await until("the delivery after restart", async () => (rx.requests.length ? true : undefined));
  await new Promise((r) => setTimeout(r, 1500));
  t.deepEqual(agentsIn(rx), ["web-9 firing"]);
  second.child.kill("SIGTERM");
  t.is(await second.exited, 0);
});
