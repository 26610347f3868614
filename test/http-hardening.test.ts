import test from "ava";
import http from "node:http";
import { RateLimiter } from "../server/http/rate-limit.ts";
import { adminHeaders, firstAnswer, startTestServer } from "./helpers/server.ts";

test("every response carries the security headers, errors included", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  for (const path of ["/v1/health", "/v1/nothing", "/docs", "/v1/metrics?agent=x"]) {
    const res = await fetch(server.http + path);
    t.is(res.headers.get("x-content-type-options"), "nosniff", path);
    t.is(res.headers.get("x-frame-options"), "DENY", path);
    t.is(res.headers.get("referrer-policy"), "no-referrer", path);
    t.regex(res.headers.get("content-security-policy")!, /default-src 'self'/, path);
    t.is(res.headers.get("strict-transport-security"), null, "no HSTS over plain HTTP");
  }
  t.is((await fetch(`${server.http}/v1/health`)).headers.get("cache-control"), "no-store");
});

test("the rate limit answers 429 with Retry-After, per address and per identity; refused credentials count; probes are exempt", async (t) => {
  // Two a minute: a request comes back every 30 s, longer than a loaded machine takes
  // between these requests (at five a minute, one came back in the 12 s a loaded run took).
  const server = await startTestServer({ http: { rate_limit_per_minute: 2 } });
  t.teardown(() => server.stop());
  const admin = await adminHeaders(server.http); // the login is one of this address's two
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await fetch(`${server.http}/v1/health`)).status);
  t.deepEqual(statuses, [200, 429, 429]);
  const limited = await fetch(`${server.http}/v1/agents`, { headers: { authorization: "Bearer guessed" } });
  t.is(limited.status, 429);
  t.true(Number(limited.headers.get("retry-after")) >= 1);
  const body = await limited.json() as { code: string; error: string };
  t.like(body, { code: "RESOURCE_EXHAUSTED" });
  t.regex(body.error, /^rate limit exceeded; retry in \d+ s$/);
  t.is((await fetch(`${server.http}/healthz`)).status, 200, "probes are not limited");
  t.is((await fetch(`${server.http}/v1/agents`, { headers: admin })).status, 200, "a logged-in caller has its own bucket");
});

test("RateLimiter refills continuously and caps saved requests at a minute's worth", (t) => {
  let now = 0;
  const limiter = new RateLimiter(60, () => now);
  for (let i = 0; i < 60; i++) t.is(limiter.take("a"), 0);
  t.is(limiter.take("a"), 1, "empty: one request a second");
  now += 1000;
  t.is(limiter.take("a"), 0);
  t.is(limiter.take("b"), 0, "another client is independent");
  now += 3_600_000;
  for (let i = 0; i < 60; i++) t.is(limiter.take("a"), 0);
  t.true(limiter.take("a") > 0, "an idle hour saves no more than a minute's worth");
});

test("a chunked body over the limit gets 413 and its connection closes, so the next request on a kept-alive agent is answered", async (t) => {
  const server = await startTestServer({ http: { rate_limit_per_minute: 1_000 } });
  t.teardown(() => server.stop());
  const admin = await adminHeaders(server.http);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const first = await new Promise<{ status: number; connection?: string }>((resolve, reject) => {
    const req = http.request(`${server.http}/v1/users`, { method: "POST", agent, headers: { ...admin, "content-type": "application/json", "transfer-encoding": "chunked" } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
    });
    req.on("error", reject);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < 5 * 1024 * 1024) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    req.on("error", () => {}); // the server may stop reading the rest: that is the point
    pump();
  });
  t.is(first.status, 413);
  t.is(first.connection, "close");
  const second = await new Promise<number>((resolve, reject) => {
    http.get(`${server.http}/v1/health`, { agent }, (res) => { res.resume(); resolve(res.statusCode!); }).on("error", reject);
  });
  t.is(second, 200);
});

test("request bodies being read count against ingest_queue_bytes: past it a body gets 429 at once and its connection closes", async (t) => {
  const server = await startTestServer({ actors: { ingest_queue_bytes: 8 * 1024 * 1024 }, http: { rate_limit_per_minute: 1_000 } });
  t.teardown(() => server.stop());
  const admin = await adminHeaders(server.http);
  // Three bodies of 3 MiB each, all held open (the last byte waits) so they are read at once.
  const part = Buffer.alloc(3 * 1024 * 1024, 0x20);
  const finish = new Set<() => void>();
  const answers = Array.from({ length: 3 }, () => new Promise<number>((resolve, reject) => {
    const req = http.request(`${server.http}/v1/report`, { method: "POST", agent: false, headers: { ...admin, "content-type": "application/json", "content-length": String(part.length + 2) } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on("error", reject);
    req.write("[");
    req.write(part);
    finish.add(() => req.end("]"));
  }));
  // The first answer is the refusal, while the other two still wait for their last byte
  // (however long a loaded machine takes to send 9 MiB: without the refusal nothing answers).
  t.is(await firstAnswer(answers), 429, "the body past ingest_queue_bytes is refused before the others end");
  for (const end of finish) end();
  const statuses = (await Promise.all(answers)).sort();
  t.deepEqual(statuses, [400, 400, 429], "two read to the end (and refused as no report), one refused for bytes");
});
