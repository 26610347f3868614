import http from "node:http";
import test from "ava";
import { assertDocumented } from "./helpers/openapi.ts";
import { adminFetch, adminHeaders, firstAnswer, getJson, startTestServer, until, type TestServer } from "./helpers/server.ts";
import { LiveClient } from "./helpers/ws-client.ts";

/*
 * The seeds' HTTP API over real HTTP against a real server with require_agent_auth: both
 * report shapes, their refusals, and the aliases of existing routes.
 */

let server: TestServer;
let webToken: string;
let dbToken: string;
const now = Date.now();

test.before(async () => {
  server = await startTestServer({ require_agent_auth: true, http: { rate_limit_per_minute: 100_000 } });
  const whitelist = async (agent_id: string) => {
    const res = await adminFetch(`${server.http}/v1/agents/whitelist`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ agent_id }) });
    return (await res.json() as { token: string }).token;
  };
  webToken = await whitelist("seed-web");
  dbToken = await whitelist("seed-db");
});
test.after.always(async () => {
  await server?.stop();
});

/** POSTs as the agent seed-web unless another token is given (null: none). */
async function post(path: string, body: unknown, token: string | null = webToken): Promise<{ status: number; body: any; retryAfter: string | null }> {
  const res = await fetch(server.http + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), retryAfter: res.headers.get("retry-after") };
}

const points = async (agent: string, metric: string) => {
  const q = await getJson(`${server.http}/v1/metrics?agent=${agent}&metric=${metric}&from=${now - 3_600_000}&to=${now + 60_000}`);
  return q.status === 200 ? q.body.series.flatMap((s: any) => s.points) : [];
};

test.serial("POST /api/report: a batch of samples is stored under tsmon's names, with ms and ISO timestamps", async (t) => {
  const t1 = now - 20_000, t2 = now - 10_000;
  const res = await post("/api/report", {
    agent_id: "seed-web",
    samples: [
      { timestamp: t1, metrics: { cpu_usage: 12.5, ram_usage: 40.1, disk_usage: 71, inode_usage: 3.2, docker_sz: 123456789, gpu_usage: 0 } },
      { timestamp: new Date(t2).toISOString(), metrics: { cpu_usage: 14, seed_custom: 7 } },
    ],
  });
  t.is(res.status, 200, JSON.stringify(res.body));
  t.deepEqual(res.body, { success: true, message: "stored 8 points" });
  assertDocumented(t, "POST", "/api/report", 200, res.body);
  t.deepEqual(await points("seed-web", "cpu.usage"), [[t1, 12.5], [t2, 14]]);
  t.deepEqual(await points("seed-web", "memory.used_percent"), [[t1, 40.1]]);
  t.deepEqual(await points("seed-web", "disk.used_percent"), [[t1, 71]]);
  t.deepEqual(await points("seed-web", "disk.inodes_used_percent"), [[t1, 3.2]]);
  t.deepEqual(await points("seed-web", "docker.dir_bytes"), [[t1, 123456789]]);
  t.deepEqual(await points("seed-web", "gpu.usage"), [[t1, 0]]);
  t.deepEqual(await points("seed-web", "seed_custom"), [[t2, 7]], "an unknown valid name is stored as it is");
});

test.serial("POST /api/report with stream_id and sequence: a resend is acknowledged as a duplicate and stored once; a bad key is a 400", async (t) => {
  const ts = now - 30_000;
  const batch = { agent_id: "seed-db", stream_id: "seedStream1", sequence: 7, samples: [{ timestamp: ts, metrics: { cpu_usage: 33 } }] };
  const first = await post("/api/report", batch, dbToken);
  t.deepEqual(first.body, { success: true, message: "stored 1 points" });
  const again = await post("/api/report", batch, dbToken);
  t.is(again.status, 200);
  t.regex(again.body.message, /^duplicate/);
  t.deepEqual(await points("seed-db", "cpu.usage"), [[ts, 33]], "stored once");
  const next = await post("/api/report", { ...batch, sequence: 8, samples: [{ timestamp: ts + 1_000, metrics: { cpu_usage: 34 } }] }, dbToken);
  t.deepEqual(next.body, { success: true, message: "stored 1 points" });
  const bad = await post("/api/report", { ...batch, stream_id: "no spaces allowed" }, dbToken);
  t.is(bad.status, 400);
  t.regex(JSON.stringify(bad.body), /stream_id/);
});

test.serial("POST /api/v1/metrics: one flat sample, the agent from the token; GET /api/v1/metrics is still GET /v1/metrics", async (t) => {
  const ts = Math.floor((now - 5_000) / 1000) * 1000;
  const res = await post("/api/v1/metrics", { cpu_usage: 45.2, memory_used: 8192, timestamp: new Date(ts).toISOString().replace(".000Z", "Z") });
  t.is(res.status, 200, JSON.stringify(res.body));
  t.deepEqual(res.body, { success: true, message: "stored 2 points" });
  t.deepEqual(await points("seed-web", "memory.used"), [[ts, 8192]]);
  const viaAlias = await getJson(`${server.http}/api/v1/metrics?agent=seed-web&metric=memory.used&from=${now - 3_600_000}&to=${now + 60_000}`);
  const direct = await getJson(`${server.http}/v1/metrics?agent=seed-web&metric=memory.used&from=${now - 3_600_000}&to=${now + 60_000}`);
  t.is(viaAlias.status, 200);
  t.deepEqual(viaAlias.body, direct.body);
  const noTimestamp = await post("/api/v1/metrics", { agent_id: "seed-web", load_1: 0.5 });
  t.is(noTimestamp.status, 200);
  t.is((await points("seed-web", "load.load_1")).length, 1, "without a timestamp the server's time is used");
});

test.serial("refusals: no token 401, unknown token 401, another agent's token 403, malformed 400 naming the seed's field; nothing stored", async (t) => {
  const sample = { agent_id: "seed-web", samples: [{ timestamp: now - 1_000, metrics: { cpu_usage: 99 } }] };
  const cases: [string, string, unknown, string | null, number, RegExp][] = [
    ["no token", "/api/report", sample, null, 401, /requires agent authentication/],
    ["unknown token", "/api/report", sample, "not-a-token", 401, /unknown agent token/],
    ["another agent's token", "/api/report", sample, dbToken, 403, /does not belong to agent 'seed-web'/],
    ["another agent's token, flat", "/api/v1/metrics", { agent_id: "seed-web", cpu_usage: 99 }, dbToken, 403, /does not belong/],
    ["a value that is not a number", "/api/report", { samples: [{ metrics: { cpu_usage: "high" } }] }, webToken, 400, /^samples\[0\]\.metrics\.cpu_usage: /],
    ["no samples field", "/api/report", { agent_id: "seed-web" }, webToken, 400, /^samples: /],
    ["a bad ISO timestamp", "/api/report", { samples: [{ timestamp: "yesterday", metrics: { cpu_usage: 1 } }] }, webToken, 400, /^samples\[0\]\.timestamp: "yesterday" is not an ISO 8601/],
    ["a timestamp in the future", "/api/report", { samples: [{ timestamp: now - 1000, metrics: { cpu_usage: 1 } }, { timestamp: now + 3_600_000, metrics: { ram_usage: 1 } }] }, webToken, 400, /^samples\[1\]\.timestamp: .* in the future/],
    ["an invalid metric name", "/api/report", { samples: [{ metrics: { "cpu usage": 1 } }] }, webToken, 400, /^samples\[0\]\.metrics\.cpu usage: "cpu usage" must match/],
    ["flat: a string metric", "/api/v1/metrics", { cpu_usage: "x" }, webToken, 400, /^cpu_usage: /],
    ["flat: a metric name that is no metric name", "/api/v1/metrics", { "bad name": 1 }, webToken, 400, /^bad name: "bad name" must match/],
    ["flat: no metric", "/api/v1/metrics", { timestamp: now }, webToken, 400, /^metrics: a report needs at least one point/],
    ["flat: fractional ms", "/api/v1/metrics", { cpu_usage: 1, timestamp: 1.5 }, webToken, 400, /^timestamp: must be a positive integer/],
    ["not JSON", "/api/report", "{", webToken, 400, /^body: not valid JSON/],
  ];
  for (const [what, path, body, token, status, message] of cases) {
    const res = await post(path, body, token);
    t.is(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
    t.regex(res.body.error ?? "", message, what);
    t.is(typeof res.body.code, "string", what);
  }
  t.false((await points("seed-web", "cpu.usage")).some((p: number[]) => p[1] === 99 || p[1] === 1), "nothing of a refused report was stored");
});

test("back-pressure: past ingest_queue_bytes a seed's report gets 429 with Retry-After at once", async (t) => {
  const small = await startTestServer({ actors: { ingest_queue_bytes: 8 * 1024 * 1024 }, http: { rate_limit_per_minute: 1_000 } });
  t.teardown(() => small.stop());
  const admin = await adminHeaders(small.http);
  // Three bodies of 3 MiB each, held open (the last byte waits) so they are read at once.
  const part = Buffer.alloc(3 * 1024 * 1024, 0x20);
  const finish: (() => void)[] = [];
  const answers = Array.from({ length: 3 }, () => new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
    const req = http.request(`${small.http}/api/report`, { method: "POST", agent: false, headers: { ...admin, "content-type": "application/json", "content-length": String(part.length + 2) } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"] });
    });
    req.on("error", reject);
    req.write("[");
    req.write(part);
    finish.push(() => req.end("]"));
  }));
  // However long a loaded machine takes to send 9 MiB: without the refusal nothing answers.
  t.deepEqual(await firstAnswer(answers), { status: 429, retryAfter: "1" });
  for (const end of finish) end();
  t.deepEqual((await Promise.all(answers)).map((a) => a.status).sort(), [400, 400, 429], "two read to the end (and refused: not a seed batch)");
});

test.serial("GET /api/v1/stats, /api/v1/history and /api/v1/alerts answer as their targets, refusals included", async (t) => {
  const range = `agent=seed-web&metric=cpu.usage&from=${now - 3_600_000}&to=${now + 60_000}`;
  for (const [alias, target] of [[`/api/v1/stats?${range}`, `/v1/metrics/stats?${range}`], [`/api/v1/history?${range}`, `/v1/metrics?${range}`], ["/api/v1/alerts", "/v1/alerts/active"], ["/api/v1/stats?agent=seed-web", "/v1/metrics/stats?agent=seed-web"]]) {
    const a = await getJson(server.http + alias), b = await getJson(server.http + target);
    t.is(a.status, b.status, alias);
    t.deepEqual(a.body, b.body, alias);
  }
  t.deepEqual((await getJson(`${server.http}/api/v1/history?${range}`)).body.series[0].points, await points("seed-web", "cpu.usage"));
  t.is((await getJson(`${server.http}/api/v1/stats?${range}`, {})).status, 401, "the alias needs the target's credential");
});

test.serial("ws://…/ws streams like /v1/live", async (t) => {
  const live = await LiveClient.connect(server.http.replace("http://", "ws://") + "/ws");
  t.teardown(() => live.close());
  await live.next((m) => m.type === "hello");
  live.send({ type: "subscribe", agents: ["seed-*"], metrics: ["cpu.usage"] });
  await live.next((m) => m.type === "subscribed");
  const ts = now - 2_000;
  await until("the report on /ws", async () => {
    const res = await post("/api/v1/metrics", { cpu_usage: 33.3, timestamp: ts });
    t.is(res.status, 200);
    return live.messages.find((m) => m.type === "report") ?? await live.next((m) => m.type === "report", 1_000).catch(() => undefined);
  });
  const report = live.messages.find((m) => m.type === "report");
  t.is(report.agent_id, "seed-web");
  t.deepEqual(report.values, [{ metric: "cpu.usage", labels: {}, value: 33.3, timestamp_ms: ts }]);
  await t.throwsAsync(LiveClient.connect(server.http.replace("http://", "ws://") + "/ws", {}), { message: /401/ });
});
