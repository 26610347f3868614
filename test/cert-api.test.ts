import test from "ava";
import { assertDocumented } from "./helpers/openapi.ts";
import { adminFetch, getJson, startTestServer, type TestServer, until } from "./helpers/server.ts";
import { loopbackResolver, startTlsServer, TestPki, type TestTlsServer } from "./helpers/test-pki.ts";

/*
 * The certificate endpoints on a real server: domains managed over REST, checks run by the
 * cert-checker's own thread pool against TLS servers on loopback, samples in storage, a
 * cert_expiration rule firing, and every kind of bad input.
 */

const DAY = 86_400_000;
let server: TestServer;
let pki: TestPki;
let valid: TestTlsServer;
let selfSigned: TestTlsServer;

test.before(async () => {
  pki = new TestPki();
  // Expires in 20 days (and a bit): the rule below warns at 30.
  valid = await startTlsServer(pki.leaf("valid.test", { notAfter: new Date(Date.now() + 20 * DAY + 3_600_000) }), { chain: pki.intermediate.cert });
  selfSigned = await startTlsServer(pki.selfSigned("self.test", ["DNS:self.test"]));
  server = await startTestServer({
    cert_check: { enabled: true, tick_secs: 1, connect_timeout_secs: 2, max_concurrent: 4, ca_file: pki.caFile },
    alert: { rules: [{ name: "cert-expiry", type: "cert_expiration", agent_pattern: "cert-checker", warning_days: 30, critical_days: 7, severity: "critical" }] },
  }, undefined, { certResolve: loopbackResolver() });
});
test.after.always(async () => {
  await server?.stop();
  await valid?.close();
  await selfSigned?.close();
  pki?.cleanup();
});

async function send(method: string, path: string, body?: unknown, contentType = "application/json") {
  const res = await adminFetch(server.http + path, {
    method, headers: { "content-type": contentType }, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, total: res.headers.get("x-total-count") };
}

async function addDomain(domain: string, port: number, extra: object = {}) {
  const res = await send("POST", "/v1/certs/domains", { domain, port, ...extra });
  if (res.status !== 201) throw new Error(`adding ${domain}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

test.serial("domains: create (IDN stored as punycode), list, filter, page, update, delete", async (t) => {
  const created = await send("POST", "/v1/certs/domains", { domain: "Bücher.test", port: 8443, note: "shop", check_interval_secs: 3600, enabled: false });
  t.is(created.status, 201);
  t.like(created.body, { domain: "xn--bcher-kva.test", port: 8443, note: "shop", check_interval_secs: 3600, enabled: false, last_checked_at: null });
  assertDocumented(t, "POST", "/v1/certs/domains", 201, created.body);
  const unchecked = await send("GET", `/v1/certs/status/${encodeURIComponent("bücher.test")}?port=8443`);
  t.is(unchecked.status, 404, "the path takes the IDN form too");
  t.is(unchecked.body.error, "xn--bcher-kva.test:8443 has not been checked yet");
  const plain = await send("POST", "/v1/certs/domains", { domain: "plain.test" });
  t.like(plain.body, { domain: "plain.test", port: 443, enabled: true, check_interval_secs: null, note: null });

  const batch = await send("POST", "/v1/certs/domains/batch", { domains: [{ domain: "b1.test" }, { domain: "b2.test", port: 9443, note: "second" }] });
  t.is(batch.status, 201);
  t.deepEqual(batch.body.map((d: any) => `${d.domain}:${d.port}`), ["b1.test:443", "b2.test:9443"]);
  assertDocumented(t, "POST", "/v1/certs/domains/batch", 201, batch.body);

  const list = await send("GET", "/v1/certs/domains?search=b&limit=1&offset=1");
  t.is(list.status, 200);
  assertDocumented(t, "GET", "/v1/certs/domains", 200, list.body);
  t.is(list.total, "3", "b1, b2 and xn--bcher-kva match 'b'");
  t.deepEqual(list.body.map((d: any) => d.domain), ["b2.test"]);
  t.deepEqual((await send("GET", "/v1/certs/domains?search=SECOND")).body.map((d: any) => d.domain), ["b2.test"], "the note is searched too");
  t.false((await send("GET", "/v1/certs/domains?enabled=true")).body.some((d: any) => d.domain === "xn--bcher-kva.test"));
  t.deepEqual((await send("GET", "/v1/certs/domains?enabled=false")).body.map((d: any) => d.domain), ["xn--bcher-kva.test"]);

  const updated = await send("PUT", `/v1/certs/domains/${created.body.id}`, { enabled: true, check_interval_secs: null, note: null, port: 8444 });
  t.is(updated.status, 200);
  t.like(updated.body, { id: created.body.id, enabled: true, check_interval_secs: null, note: null, port: 8444 });
  assertDocumented(t, "PUT", "/v1/certs/domains/{id}", 200, updated.body);

  for (const d of [created.body, plain.body, ...batch.body]) t.is((await send("DELETE", `/v1/certs/domains/${d.id}`)).status, 204);
  const gone = await send("DELETE", `/v1/certs/domains/${plain.body.id}`);
  t.is(gone.status, 404);
  assertDocumented(t, "DELETE", "/v1/certs/domains/{id}", 404, gone.body);
  t.is((await send("GET", "/v1/certs/domains?search=.test")).total, "0");
});

const badRequests: [string, string, string, unknown, number, RegExp, string?][] = [
  ["a URL as domain", "POST", "/v1/certs/domains", { domain: "https://x.test/" }, 400, /^domain: .*bare host name/],
  ["an IP as domain", "POST", "/v1/certs/domains", { domain: "127.0.0.1" }, 400, /^domain: .*IP address/],
  ["a bad label", "POST", "/v1/certs/domains", { domain: "-x.test" }, 400, /^domain: .*label "-x"/],
  ["no domain", "POST", "/v1/certs/domains", { port: 443 }, 400, /^domain: /],
  ["port 0", "POST", "/v1/certs/domains", { domain: "p.test", port: 0 }, 400, /^port: /],
  ["port 65536", "POST", "/v1/certs/domains", { domain: "p.test", port: 65536 }, 400, /^port: /],
  ["port as a string", "POST", "/v1/certs/domains", { domain: "p.test", port: "443" }, 400, /^port: .*expected number/],
  ["a tiny interval", "POST", "/v1/certs/domains", { domain: "p.test", check_interval_secs: 5 }, 400, /^check_interval_secs: /],
  ["an unknown field", "POST", "/v1/certs/domains", { domain: "p.test", colour: "red" }, 400, /colour/],
  ["an array body", "POST", "/v1/certs/domains", [{ domain: "p.test" }], 400, /expected object/],
  ["malformed JSON", "POST", "/v1/certs/domains", "{\"domain\":", 400, /^body: not valid JSON/],
  ["a non-JSON body", "POST", "/v1/certs/domains", "domain=p.test", 415, /application\/json/, "text/plain"],
  ["an empty batch", "POST", "/v1/certs/domains/batch", { domains: [] }, 400, /^domains: /],
  ["a bad port in a batch", "POST", "/v1/certs/domains/batch", { domains: [{ domain: "q1.test" }, { domain: "q2.test", port: -1 }] }, 400, /^domains\.1\.port: /],
  ["a bad name in a batch", "POST", "/v1/certs/domains/batch", { domains: [{ domain: "q1.test" }, { domain: "q 2.test" }] }, 400, /^domains\.1\.domain: /],
  ["a repeated endpoint in a batch", "POST", "/v1/certs/domains/batch", { domains: [{ domain: "q1.test" }, { domain: "Q1.test", port: 443 }] }, 409, /^domains\.1: q1\.test:443 is already monitored/],
  ["an unknown id (PUT)", "PUT", "/v1/certs/domains/nope", { enabled: false }, 404, /no monitored domain with id 'nope'/],
  ["the domain in an update", "PUT", "/v1/certs/domains/nope", { domain: "x.test" }, 400, /domain/],
  ["a bad port in an update", "PUT", "/v1/certs/domains/nope", { port: 0 }, 400, /^port: /],
  ["an unknown id (check)", "POST", "/v1/certs/domains/nope/check", undefined, 404, /no monitored domain/],
  ["enabled=yes", "GET", "/v1/certs/domains?enabled=yes", undefined, 400, /^enabled: must be true or false/],
  ["limit=0", "GET", "/v1/certs/domains?limit=0", undefined, 400, /^limit: /],
  ["a bad domain in status", "GET", "/v1/certs/status/not%20a%20name", undefined, 400, /^domain: /],
  ["a bad port in status", "GET", "/v1/certs/status/valid.test?port=0", undefined, 400, /^port: /],
  ["an unmonitored domain's status", "GET", "/v1/certs/status/unknown.test", undefined, 404, /unknown\.test is not monitored/],
  ["expiring_within_days=soon", "GET", "/v1/certificates?expiring_within_days=soon", undefined, 400, /^expiring_within_days: /],
  ["a bad ip_address", "GET", "/v1/certificates?ip_address=300.1.1.1", undefined, 400, /^ip_address: /],
  ["limit=5000", "GET", "/v1/certificates?limit=5000", undefined, 400, /^limit: /],
  ["an unmonitored certificate", "GET", "/v1/certificates/unknown.test", undefined, 404, /not monitored/],
  ["an unmonitored chain", "GET", "/v1/certificates/unknown.test/chain", undefined, 404, /not monitored/],
  ["a bad domain for a chain", "GET", "/v1/certificates/1.2.3.4/chain", undefined, 400, /^domain: .*IP address/],
];

for (const [name, method, path, body, status, message, contentType] of badRequests) {
  test.serial(`refuses ${name}: ${status}, naming the field`, async (t) => {
    const res = await send(method, path, body, contentType);
    t.is(res.status, status, JSON.stringify(res.body));
    t.regex(res.body.error, message);
    const template = path.split("?")[0]!.replace(/\/v1\/certs\/domains\/nope/, "/v1/certs/domains/{id}")
      .replace(/^\/v1\/certs\/status\/[^/]+$/, "/v1/certs/status/{domain}").replace(/^\/v1\/certificates\/[^/]+/, "/v1/certificates/{domain}");
    assertDocumented(t, method, template, status, res.body);
  });
}

test.serial("a duplicate domain:port is 409 (also when spelled differently), and a failed batch creates nothing", async (t) => {
  const first = await addDomain("dup.test", 443);
  const again = await send("POST", "/v1/certs/domains", { domain: "DUP.test." });
  t.is(again.status, 409);
  t.is(again.body.error, "domain: dup.test:443 is already monitored");
  assertDocumented(t, "POST", "/v1/certs/domains", 409, again.body);
  const batch = await send("POST", "/v1/certs/domains/batch", { domains: [{ domain: "fresh.test" }, { domain: "dup.test" }] });
  t.is(batch.status, 409);
  t.is(batch.body.error, "domains.1: dup.test:443 is already monitored");
  t.is((await send("GET", "/v1/certs/domains?search=fresh")).total, "0", "all or nothing");
  const other = await addDomain("dup.test", 8443);
  const move = await send("PUT", `/v1/certs/domains/${other.id}`, { port: 443 });
  t.is(move.status, 409);
  t.regex(move.body.error, /^port: dup\.test:443 is already monitored/);
  for (const d of [first, other]) await send("DELETE", `/v1/certs/domains/${d.id}`);
});

test.serial("manual checks run in the cert-checker pool; status, certificates and chain serve the results", async (t) => {
  const good = await addDomain("valid.test", valid.port, { check_interval_secs: 86_400 });
  const bad = await addDomain("self.test", selfSigned.port);
  const checked = await send("POST", `/v1/certs/domains/${good.id}/check`);
  t.is(checked.status, 200);
  assertDocumented(t, "POST", "/v1/certs/domains/{id}/check", 200, checked.body);
  t.like(checked.body, { domain: "valid.test", port: valid.port, is_valid: true, chain_valid: true, hostname_match: true, days_until_expiry: 20, error_class: null });
  t.deepEqual(checked.body.resolved_ips, ["127.0.0.1"]);
  t.deepEqual(checked.body.san_list, ["valid.test"], "plain names, as the reference shows them");

  const all = await send("POST", "/v1/certs/check");
  t.is(all.status, 200);
  assertDocumented(t, "POST", "/v1/certs/check", 200, all.body);
  const byDomain = Object.fromEntries(all.body.results.map((r: any) => [r.domain, r]));
  t.like(byDomain["self.test"], { is_valid: false, error_class: "untrusted", chain_valid: false });
  t.like(byDomain["valid.test"], { is_valid: true });

  const status = await send("GET", "/v1/certs/status");
  assertDocumented(t, "GET", "/v1/certs/status", 200, status.body);
  t.true(status.body.some((r: any) => r.domain === "self.test" && r.error === "chain not trusted: DEPTH_ZERO_SELF_SIGNED_CERT"));
  const one = await send("GET", "/v1/certs/status/VALID.test");
  t.is(one.status, 200);
  assertDocumented(t, "GET", "/v1/certs/status/{domain}", 200, one.body);
  t.is(one.body.domain_id, good.id);

  const details = await send("GET", `/v1/certificates/valid.test?port=${valid.port}`);
  t.is(details.status, 200);
  assertDocumented(t, "GET", "/v1/certificates/{domain}", 200, details.body);
  t.like(details.body, {
    domain: "valid.test", subject_cn: "valid.test", issuer_cn: "tsmon Test Intermediate", issuer_o: "tsmon test",
    chain_valid: true, chain_error: null, hostname_match: true, chain_depth: 3, public_key_algorithm: "EC", public_key_bits: 256, is_valid: true,
  });
  t.deepEqual(details.body.ip_addresses, ["127.0.0.1"]);
  const chain = await send("GET", "/v1/certificates/valid.test/chain");
  assertDocumented(t, "GET", "/v1/certificates/{domain}/chain", 200, chain.body);
  t.deepEqual(chain.body.chain.map((c: any) => [c.depth, c.subject_cn, c.issuer_cn, c.is_ca]), [
    [0, "valid.test", "tsmon Test Intermediate", false],
    [1, "tsmon Test Intermediate", "tsmon Test Root CA", true],
    [2, "tsmon Test Root CA", "tsmon Test Root CA", true],
  ]);

  const expiring = await send("GET", "/v1/certificates?expiring_within_days=30&issuer=INTERMEDIATE&ip_address=127.0.0.1");
  assertDocumented(t, "GET", "/v1/certificates", 200, expiring.body);
  t.deepEqual(expiring.body.map((c: any) => c.domain), ["valid.test"]);
  t.is(expiring.total, "1");
  t.deepEqual((await send("GET", "/v1/certificates?expiring_within_days=10")).body.map((c: any) => c.domain), [], "20 days left");
  t.deepEqual((await send("GET", "/v1/certificates?ip_address=::1")).body, []);

  const listed = await send("GET", "/v1/certs/domains?search=valid");
  t.truthy(listed.body[0].last_checked_at);
  t.is((await send("DELETE", `/v1/certs/domains/${bad.id}`)).status, 204);
  const deleted = await send("GET", "/v1/certs/status/self.test");
  t.is(deleted.status, 404, "deleting a domain deletes its results");
});

test.serial("checks feed certificate.* samples into storage, and a cert_expiration rule fires end to end", async (t) => {
  const from = Date.now() - DAY;
  const query = (metric: string) => `${server.http}/v1/metrics?agent=cert-checker&metric=${metric}&from=${from}&to=${Date.now() + 60_000}&labels=domain:valid.test`;
  const days = await until("days_until_expiry samples", async () => {
    const res = await getJson(query("certificate.days_until_expiry"));
    return res.status === 200 && res.body.series.length ? res : undefined;
  });
  assertDocumented(t, "GET", "/v1/metrics", 200, days.body);
  t.deepEqual(days.body.series[0].labels, { domain: "valid.test", port: String(valid.port) });
  t.true(days.body.series[0].points.every(([, v]: [number, number]) => v === 20));
  const validity = await getJson(query("certificate.is_valid"));
  t.true(validity.body.series[0].points.every(([, v]: [number, number]) => v === 1));

  const fired = await until("the cert-expiry alert", async () => {
    const h = (await getJson(`${server.http}/v1/alerts/history?agent=cert-checker&status=firing`)).body;
    return h.total >= 1 ? h : undefined;
  });
  t.like(fired.events[0], { rule_name: "cert-expiry", agent_id: "cert-checker", metric: "certificate.days_until_expiry", severity: "warning", value: 20, threshold: 30 });
  t.like(fired.events[0].labels, { domain: "valid.test" });

  const prom = await (await adminFetch(`${server.http}/metrics`)).text();
  t.regex(prom, /tsmon_cert_checks_total\{result="ok"\} [1-9]/);
  t.regex(prom, /tsmon_cert_checks_total\{result="untrusted"\} [1-9]/);
  t.regex(prom, /tsmon_actor_restarts\{actor="cert-checker"\} 0/);
});

test.serial("the scheduler checks a newly added domain at its next tick", async (t) => {
  const fresh = await startTlsServer(pki.leaf("sched.test"), { chain: pki.intermediate.cert });
  t.teardown(() => fresh.close());
  const added = await addDomain("sched.test", fresh.port);
  const status = await until("the scheduled check", async () => {
    const res = await getJson(`${server.http}/v1/certs/status/sched.test`);
    return res.status === 200 ? res.body : undefined;
  });
  t.like(status, { domain_id: added.id, is_valid: true });
  t.true(fresh.accepted >= 1);
});
