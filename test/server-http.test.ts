import test from "ava";
import { assertDocumented } from "./helpers/openapi.ts";
import { adminFetch, getJson, startTestServer, type TestServer } from "./helpers/server.ts";

let server: TestServer;
const now = Date.now();

test.before(async () => {
  server = await startTestServer({ http: { body_limit_bytes: 64 * 1024 } });
  const res = await post("/v1/report", { agent_id: "http-01", data_points: [{ metric_name: "load.load_1", value: 0.5, timestamp_ms: now - 1000 }] });
  if (res.status !== 200) throw new Error(`seed report failed: ${res.status}`);
});
test.after.always(async () => { await server?.stop(); });

function post(path: string, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) {
  // Without require_agent_auth the report route takes an operator's credential: the test admin's.
  return adminFetch(server.http + path, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
}

test("POST /v1/report stores a JSON batch; a missing timestamp means now", async (t) => {
  const res = await post("/v1/report", { agent_id: "http-02", data_points: [{ metric_name: "cpu.usage", value: 3, labels: {} }] });
  t.is(res.status, 200);
  const body = await res.json();
  t.deepEqual(body, { success: true, message: "stored 1 points" });
  assertDocumented(t, "POST", "/v1/report", 200, body);
  const latest = await getJson(`${server.http}/v1/agents/http-02/latest`);
  t.is(latest.body[0].value, 3);
  t.true(Math.abs(latest.body[0].timestamp_ms - Date.now()) < 60_000);
  assertDocumented(t, "GET", "/v1/agents/{id}/latest", 200, latest.body);
});

const badReports: [string, () => Promise<Response>, number, string, RegExp][] = [
  ["wrong content type", () => post("/v1/report", "agent_id=x", { "content-type": "text/plain" }), 415, "UNSUPPORTED_MEDIA_TYPE", /application\/json/],
  ["malformed JSON", () => post("/v1/report", "{\"agent_id\": "), 400, "INVALID_ARGUMENT", /not valid JSON/],
  ["body over the limit", () => post("/v1/report", { agent_id: "huge", data_points: [], pad: "x".repeat(70 * 1024) }), 413, "PAYLOAD_TOO_LARGE", /larger than/],
  ["not an object", () => post("/v1/report", [1, 2]), 400, "INVALID_ARGUMENT", /^body: .*expected object, received array/],
  ["value not a number", () => post("/v1/report", { agent_id: "h", data_points: [{ metric_name: "m", value: "1" }] }), 400, "INVALID_ARGUMENT", /^data_points\[0\]\.value: .*expected number, received string/],
  ["labels not strings", () => post("/v1/report", { agent_id: "h", data_points: [{ metric_name: "m", value: 1, labels: { a: 1 } }] }), 400, "INVALID_ARGUMENT", /^data_points\[0\]\.labels\.a: .*expected string/],
  ["invalid batch", () => post("/v1/report", { agent_id: "h", data_points: [{ metric_name: "m", value: 1, timestamp_ms: now + 3_600_000 }] }), 400, "INVALID_ARGUMENT", /in the future/],
];

for (const [name, send, status, code, message] of badReports) {
  test(`POST /v1/report refuses ${name} with ${status} and stores nothing`, async (t) => {
    const res = await send();
    t.is(res.status, status);
    const body = await res.json() as { error: string; code: string };
    t.is(body.code, code);
    t.regex(body.error, message);
    assertDocumented(t, "POST", "/v1/report", status, body);
    const agents = await getJson(`${server.http}/v1/agents`);
    t.false(agents.body.some((a: any) => a.agent_id === "h" || a.agent_id === "huge"));
  });
}

const badQueries: [string, string, number, RegExp][] = [
  ["missing agent", "/v1/metrics?metric=cpu.usage&from=0&to=1", 400, /^agent: is required/],
  ["missing agent (under the /api/v1 alias)", "/api/v1/metrics?metric=cpu.usage&from=0&to=1", 400, /^agent: is required/],
  ["missing metric", "/v1/metrics?agent=http-01&from=0&to=1", 400, /^metric: is required/],
  ["missing from", "/v1/metrics?agent=http-01&metric=m&to=1", 400, /^from: is required/],
  ["unparseable to", "/v1/metrics?agent=http-01&metric=m&from=0&to=tomorrow", 400, /^to: "tomorrow" is neither/],
  ["to before from", `/v1/metrics?agent=http-01&metric=m&from=${now}&to=${now - 1}`, 400, /^to: must not be before from/],
  ["range over 31 days", `/v1/metrics?agent=http-01&metric=m&from=${now - 40 * 86_400_000}&to=${now}`, 400, /at most 31 days/],
  ["repeated parameter", `/v1/metrics?agent=a&agent=b&metric=m&from=0&to=1`, 400, /^agent: given more than once/],
  ["bad label filter", `/v1/metrics?agent=http-01&metric=m&from=${now - 1000}&to=${now}&labels=nocolon`, 400, /^labels: "nocolon" is not key:value/],
  ["unknown agent", `/v1/metrics?agent=nobody&metric=m&from=${now - 1000}&to=${now}`, 404, /'nobody' has never reported/],
  ["latest of unknown agent", "/v1/agents/nobody/latest", 404, /'nobody' has never reported/],
  ["unknown route", "/v1/nothing-here", 404, /no route for GET \/v1\/nothing-here/],
];

for (const [name, path, status, message] of badQueries) {
  test(`GET answers ${status} for ${name}`, async (t) => {
    const res = await getJson(server.http + path);
    t.is(res.status, status);
    t.regex(res.body.error, message);
    const template = path.startsWith("/v1/agents/") ? "/v1/agents/{id}/latest" : path.replace(/^\/api/, "").split("?")[0]!;
    if (template !== "/v1/nothing-here") assertDocumented(t, "GET", template, status, res.body);
    else t.is(res.body.code, "NOT_FOUND");
  });
}

test("GET /v1/health reports version, uptime, agents and storage", async (t) => {
  const res = await getJson(`${server.http}/v1/health`);
  t.is(res.status, 200);
  t.is(res.body.status, "ok");
  t.regex(res.body.version, /^\d+\.\d+\.\d+/);
  t.true(res.body.agent_count >= 1);
  t.is(res.body.storage.status, "ok");
  t.true(res.body.storage.partitions >= 1);
  assertDocumented(t, "GET", "/v1/health", 200, res.body);
  const agents = await getJson(`${server.http}/v1/agents`);
  assertDocumented(t, "GET", "/v1/agents", 200, agents.body);
});

test("a method a route does not have gets the error shape", async (t) => {
  const res = await adminFetch(`${server.http}/v1/agents`, { method: "DELETE" });
  t.is(res.status, 405);
  t.is(((await res.json()) as { code: string }).code, "METHOD_NOT_ALLOWED");
});
