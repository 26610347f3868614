import test from "ava";
import { status } from "@grpc/grpc-js";
import { ProtoClient, makeBatch, type ProtoBatch } from "./helpers/proto-client.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { getJson, startTestServer, type TestServer } from "./helpers/server.ts";

let server: TestServer;
let client: ProtoClient;
const now = Date.now();

test.before(async () => {
  server = await startTestServer();
  client = new ProtoClient(server.grpc);
});
test.after.always(async () => {
  client?.close();
  await server?.stop();
});

test.serial("a report from a proto-only client is stored and read back over REST", async (t) => {
  const ts = now - 60_000;
  const res = await client.report(makeBatch("web-01", ts, 5));
  t.deepEqual(res, { success: true, message: "ok" });
  await client.report(makeBatch("web-01", ts + 10_000, 5));

  const agents = await getJson(`${server.http}/v1/agents`);
  t.is(agents.status, 200);
  t.deepEqual(agents.body.map((a: any) => [a.agent_id, a.active]), [["web-01", true]]);

  const latest = await getJson(`${server.http}/v1/agents/web-01/latest`);
  t.is(latest.status, 200);
  t.is(latest.body.length, 5);
  const cpu = latest.body.find((p: any) => p.metric_name === "cpu.usage");
  t.is(cpu.timestamp_ms, ts + 10_000);
  t.deepEqual(latest.body.filter((p: any) => p.metric_name === "cpu.core_usage").map((p: any) => p.labels.core), ["0", "1", "2", "3"]);

  const q = await getJson(`${server.http}/v1/metrics?agent=web-01&metric=cpu.core_usage&from=${new Date(ts - 1).toISOString()}&to=${ts + 10_000}`);
  t.is(q.status, 200);
  t.is(q.body.series.length, 4);
  for (const s of q.body.series) t.deepEqual(s.points.map((p: number[]) => p[0]), [ts, ts + 10_000]);
  const filtered = await getJson(`${server.http}/v1/metrics?agent=web-01&metric=cpu.core_usage&from=${ts}&to=${ts + 10_000}&labels=core:2`);
  t.deepEqual(filtered.body.series.map((s: any) => s.labels), [{ core: "2" }]);
  assertDocumented(t, "GET", "/v1/metrics", 200, q.body);
  assertDocumented(t, "GET", "/v1/agents/{id}/latest", 200, latest.body);
  assertDocumented(t, "GET", "/v1/agents", 200, agents.body);
});

test.serial("a retried report is stored once", async (t) => {
  const batch = makeBatch("retry-01", now - 30_000, 3);
  await client.report(batch);
  await client.report(batch);
  const q = await getJson(`${server.http}/v1/metrics?agent=retry-01&metric=cpu.usage&from=${now - 3_600_000}&to=${now}`);
  t.is(q.body.series[0].points.length, 1);
});

const bad: [string, (b: ProtoBatch) => void, RegExp][] = [
  ["empty agent_id", (b) => { b.agent_id = ""; }, /agent_id: must not be empty/],
  ["agent_id too long", (b) => { b.agent_id = "x".repeat(129); }, /agent_id: longer than 128/],
  ["agent_id with a space", (b) => { b.agent_id = "web 01"; }, /agent_id: must be printable/],
  ["no points", (b) => { b.data_points = []; }, /at least one point/],
  ["too many points", (b) => { b.data_points = Array.from({ length: 10_001 }, () => ({ ...b.data_points[0]! })); }, /exceed the limit/],
  ["NaN value", (b) => { b.data_points[1]!.value = NaN; }, /data_points\[1\]\.value: must be a finite number/],
  ["infinite value", (b) => { b.data_points[0]!.value = Infinity; }, /value: must be a finite number/],
  ["timestamp 10 minutes ahead", (b) => { b.data_points[2]!.timestamp_ms = now + 600_000; }, /data_points\[2\]\.timestamp_ms: .* in the future/],
  ["timestamp before retention", (b) => { b.data_points[0]!.timestamp_ms = now - 8 * 86_400_000; }, /older than the retention window/],
  ["metric name with a space", (b) => { b.data_points[0]!.metric_name = "cpu usage"; }, /metric_name: "cpu usage" must match/],
  ["empty metric name", (b) => { b.data_points[0]!.metric_name = ""; }, /metric_name: must not be empty/],
  ["metric name too long", (b) => { b.data_points[0]!.metric_name = "m".repeat(129); }, /metric_name/],
  ["bad label key", (b) => { b.data_points[0]!.labels = { "bad key": "x" }; }, /labels: key "bad key"/],
  ["label value with control character", (b) => { b.data_points[0]!.labels = { mount: "/a\nb" }; }, /labels\.mount: value contains control/],
  ["label value too long", (b) => { b.data_points[0]!.labels = { mount: "v".repeat(257) }; }, /value longer than 256/],
  ["too many labels", (b) => { b.data_points[0]!.labels = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])); }, /more than 32 labels/],
  ["point of another agent", (b) => { b.data_points[0]!.agent_id = "someone-else"; }, /differs from the batch's agent_id/],
];

for (const [name, mutate, message] of bad) {
  test.serial(`refused with INVALID_ARGUMENT and nothing stored: ${name}`, async (t) => {
    const batch = makeBatch("bad-agent", now - 5_000, 4);
    batch.data_points[3]!.value = 42;
    mutate(batch);
    const err = await t.throwsAsync(client.report(batch)) as any;
    t.is(err.code, status.INVALID_ARGUMENT);
    t.regex(err.details, message);
    const agents = await getJson(`${server.http}/v1/agents`);
    t.false(agents.body.some((a: any) => a.agent_id === batch.agent_id), "no agent registered by a refused report");
    const q = await getJson(`${server.http}/v1/metrics?agent=web-01&metric=cpu.usage&from=${now - 3_600_000}&to=${now}`);
    t.is(q.body.series[0].points.length, 2, "earlier data untouched");
  });
}

test.serial("after a good report, the same series with a bad value or timestamp are still refused, and a changed series is checked again", async (t) => {
  await client.report(makeBatch("shape-01", now - 20_000, 3));
  const again = (mutate: (b: ProtoBatch) => void) => {
    const batch = makeBatch("shape-01", now - 10_000, 3);
    mutate(batch);
    return t.throwsAsync(client.report(batch), { message: /INVALID_ARGUMENT/ });
  };
  await again((b) => { b.data_points[1]!.value = NaN; });
  await again((b) => { b.data_points[2]!.timestamp_ms = now + 600_000; });
  await again((b) => { b.data_points[1]!.labels = { core: "0", "bad key": "x" }; });
  const q = await getJson(`${server.http}/v1/metrics?agent=shape-01&metric=cpu.usage&from=${now - 3_600_000}&to=${now}`);
  t.deepEqual(q.body.series[0].points.map((p: number[]) => p[0]), [now - 20_000], "only the good report is stored");
});

test.serial("an oversized message is refused and the server keeps serving", async (t) => {
  const batch = makeBatch("big-agent", now - 5_000, 2);
  batch.data_points[0]!.labels = { blob: "x".repeat(5 * 1024 * 1024) };
  const err = await t.throwsAsync(client.report(batch)) as any;
  t.is(err.code, status.RESOURCE_EXHAUSTED);
  t.deepEqual(await client.report(makeBatch("after-big", now - 4_000)), { success: true, message: "ok" });
});

test.serial("random bytes on the RPC get INVALID_ARGUMENT and the server stays up", async (t) => {
  for (const bytes of [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.from("not a protobuf at all \x00\x01\x02"), Buffer.alloc(0)]) {
    const err = await ProtoClient.rawCall(server.grpc, bytes) as any;
    t.is(err?.code, status.INVALID_ARGUMENT);
  }
  t.deepEqual(await client.report(makeBatch("after-garbage", now - 3_000)), { success: true, message: "ok" });
  const health = await getJson(`${server.http}/v1/health`);
  t.is(health.body.status, "ok");
});
