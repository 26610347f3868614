import test from "ava";
import { assertDocumented } from "./helpers/openapi.ts";
import { adminFetch, startTestServer, type TestServer } from "./helpers/server.ts";
import { loopbackResolver, startSilentServer, startTlsServer, TestPki } from "./helpers/test-pki.ts";

/*
 * The process-wide bound: 50 domains checked at once through two pool threads never hold
 * more than max_concurrent connections, counted by the TLS server (each ClientHello is
 * held 100 ms, so connections the checker opens together overlap there). With the
 * scheduler off, only the manual check runs.
 */

const MAX_CONCURRENT = 5;
let server: TestServer;
let pki: TestPki;

test.before(async () => {
  pki = new TestPki();
  server = await startTestServer({
    cert_check: { enabled: false, connect_timeout_secs: 2, max_concurrent: MAX_CONCURRENT, ca_file: pki.caFile },
    actors: { ingest_threads: 1, cert_checker_threads: 2 },
  }, undefined, { certResolve: loopbackResolver() });
});
test.after.always(async () => {
  await server?.stop();
  pki?.cleanup();
});

async function post(path: string, body?: unknown) {
  const res = await adminFetch(server.http + path, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() as any };
}

test.serial("50 domains checked at once never exceed max_concurrent connections", async (t) => {
  const tlsServer = await startTlsServer(pki.leaf("load.test", { sans: ["DNS:*.load.test"] }), { chain: pki.intermediate.cert, holdMs: 100 });
  t.teardown(() => tlsServer.close());
  const domains = Array.from({ length: 50 }, (_, i) => ({ domain: `d${i}.load.test`, port: tlsServer.port }));
  t.is((await post("/v1/certs/domains/batch", { domains })).status, 201);

  const all = await post("/v1/certs/check");
  t.is(all.status, 200);
  assertDocumented(t, "POST", "/v1/certs/check", 200, all.body);
  t.is(all.body.checked, 50);
  t.is(all.body.valid, 50, JSON.stringify(all.body.results.find((r: any) => !r.is_valid)));
  t.is(tlsServer.accepted, 50);
  t.log(`most connections held at once: ${tlsServer.peak} (bound ${MAX_CONCURRENT})`);
  t.true(tlsServer.peak <= MAX_CONCURRENT);
  t.true(tlsServer.peak > 1, "checks do run concurrently");
  t.deepEqual(server.certs.stats(), { connections: 0, waiting: 0, checks: 0 });
});

test.serial("a hung peer times out after connect_timeout_secs while a healthy domain checked alongside succeeds", async (t) => {
  const silent = await startSilentServer();
  t.teardown(() => silent.close());
  const tlsServer = await startTlsServer(pki.leaf("fast.test"), { chain: pki.intermediate.cert });
  t.teardown(() => tlsServer.close());
  const hung = (await post("/v1/certs/domains", { domain: "hung.test", port: silent.port })).body;
  const fast = (await post("/v1/certs/domains", { domain: "fast.test", port: tlsServer.port })).body;
  const [slow, quick] = await Promise.all([post(`/v1/certs/domains/${hung.id}/check`), post(`/v1/certs/domains/${fast.id}/check`)]);
  t.like(slow.body, { error_class: "timeout", is_valid: false });
  t.like(quick.body, { error_class: null, is_valid: true });
});
