import http from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import test from "ava";
import { adminHeaders, startTestServer, type TestServer } from "./helpers/server.ts";
import { ProtoClient } from "./helpers/proto-client.ts";
import { sendHistory } from "./helpers/web-fixture.ts";

/*
 * API replies are compressed for clients that ask (browsers brotli, Prometheus gzip), sent
 * as they are to clients that do not, and small replies are never squeezed. Raw requests,
 * so the headers show what went over the wire.
 */
let server: TestServer;
let client: ProtoClient;
let auth: { authorization: string };
test.before(async () => {
  server = await startTestServer({ agent_active_secs: 600 });
  client = new ProtoClient(server.grpc);
  await sendHistory(client, ["web-1", "web-2", "db-1"], Date.now() - 600_000, Date.now() - 5_000, 10_000);
  auth = await adminHeaders(server.http);
});
test.after.always(async () => {
  client?.close();
  await server?.stop();
});

function rawGet(path: string, headers: Record<string, string> = {}, method = "GET"): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.request(`${server.http}${path}`, { method, headers: { ...auth, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on("error", reject).end();
  });
}

const OVERVIEW = "/v1/overview?window=10m&step=10";

test("a large JSON reply: brotli for a browser, gzip for gzip, the same JSON either way; as it is without Accept-Encoding", async (t) => {
  const plain = await rawGet(OVERVIEW);
  t.is(plain.status, 200);
  t.is(plain.headers["content-encoding"], undefined);
  t.is(Number(plain.headers["content-length"]), plain.body.length, "a length, not chunked");
  t.true(plain.body.length > 8192, `${plain.body.length} bytes: above the threshold`);
  const expected = JSON.parse(plain.body.toString()) as { agents: { agent_id: string; series: unknown[] }[] };
  t.deepEqual(expected.agents.map((a) => a.agent_id), ["db-1", "web-1", "web-2"]);

  const br = await rawGet(OVERVIEW, { "accept-encoding": "gzip, deflate, br" });
  t.is(br.headers["content-encoding"], "br");
  t.regex(String(br.headers.vary), /accept-encoding/i);
  t.true(br.body.length < plain.body.length / 2, `${br.body.length} of ${plain.body.length} bytes`);
  const gzip = await rawGet(OVERVIEW, { "accept-encoding": "gzip" });
  t.is(gzip.headers["content-encoding"], "gzip");
  // The window slides between requests: compare what does not move with it.
  for (const body of [brotliDecompressSync(br.body), gunzipSync(gzip.body)]) {
    const got = JSON.parse(body.toString()) as typeof expected;
    t.deepEqual(got.agents.map((a) => [a.agent_id, a.series.length]), expected.agents.map((a) => [a.agent_id, a.series.length]));
  }
});

test("Prometheus' scrape of /metrics comes gzipped when asked", async (t) => {
  const res = await rawGet("/metrics", { "accept-encoding": "gzip" });
  t.is(res.status, 200);
  t.is(res.headers["content-encoding"], "gzip");
  t.regex(gunzipSync(res.body).toString(), /^tsmon_reports_ingested_total/m);
});

test("small replies, HEAD and errors go as they are", async (t) => {
  const health = await rawGet("/v1/health", { "accept-encoding": "br, gzip" });
  t.is(health.status, 200);
  t.is(health.headers["content-encoding"], undefined);
  t.is(JSON.parse(health.body.toString()).status, "ok");
  const head = await rawGet(OVERVIEW, { "accept-encoding": "br, gzip" }, "HEAD");
  t.is(head.headers["content-encoding"], undefined);
  const bad = await rawGet("/v1/overview?window=nonsense", { "accept-encoding": "br, gzip" });
  t.is(bad.status, 400);
  t.is(bad.headers["content-encoding"], undefined);
  t.is(JSON.parse(bad.body.toString()).code, "INVALID_ARGUMENT");
});
