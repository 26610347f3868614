import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CertCheckerPool } from "../server/actors/cert-checker/cert-checker-pool.ts";
import type { IngestTask } from "../server/actors/protocol/messages.ts";
import { CertChecker, loadExtraCa, type CertCheckSettings } from "../server/certs/checker.ts";
import { probe, trustContext } from "../server/certs/probe.ts";
import { createLogger } from "../server/log.ts";
import { CertStore } from "../server/storage/cert-store.ts";
import { ControlStore } from "../server/storage/control-store.ts";
import { Lease } from "../server/storage/lease.ts";
import { until } from "./helpers/server.ts";
import { loopbackResolver, refusedPort, startSilentServer, startTlsServer, TestPki, type KeyPair } from "./helpers/test-pki.ts";

/*
 * One check end to end in-process (no threads): real TLS servers on loopback presenting
 * certificates made now, the real store, a resolver mapping *.test to 127.0.0.1.
 */

const DAY = 86_400_000;
const settings: CertCheckSettings = { enabled: true, default_interval_secs: 86_400, tick_secs: 60, connect_timeout_secs: 1, max_concurrent: 4 };
let pki: TestPki;
const stops: (() => Promise<void> | void)[] = [];

test.before(() => {
  pki = new TestPki();
  stops.push(() => pki.cleanup());
});
test.after.always(async () => {
  for (const stop of stops.reverse()) await stop();
});

function harness(t: import("ava").ExecutionContext, options: { dir?: string; resolve?: (h: string) => Promise<string[]>; trustRoot?: boolean } = {}) {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), "tsmon-cert-"));
  const control = new ControlStore(dir);
  const store = new CertStore(control.env);
  const reports: IngestTask[] = [];
  const lease = new Lease(control.leases, "cert-check", 10_000);
  const context = options.trustRoot === false ? undefined : trustContext(pki.root.cert);
  const checker = new CertChecker({
    settings, store, lease,
    prober: { probe: (task) => probe(task, context) },
    resolve: options.resolve ?? loopbackResolver(), intake: { submit: async (task) => { reports.push(task); } },
    log: createLogger("silent"), now: Date.now,
  });
  t.teardown(async () => {
    await checker.close();
    await control.close();
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  });
  return { checker, store, reports, dir, lease };
}

async function serve(pair: KeyPair, withIntermediate = true) {
  const server = await startTlsServer(pair, { chain: withIntermediate ? pki.intermediate.cert : undefined });
  stops.push(() => server.close());
  return server;
}

async function checkOne(t: import("ava").ExecutionContext, domain: string, port: number, options: Parameters<typeof harness>[1] = {}) {
  const h = harness(t, options);
  const [d] = await h.store.add([{ domain, port, enabled: true, check_interval_secs: null, note: null }], Date.now());
  const result = await h.checker.checkById(d!.id);
  return { ...h, result };
}

test("a chain from the test CA (root in ca_file, intermediate sent by the server) is valid, with every detail recorded", async (t) => {
  const server = await serve(pki.leaf("valid.test", { sans: ["DNS:valid.test", "DNS:www.valid.test"] }));
  const { result, store, reports } = await checkOne(t, "valid.test", server.port);
  t.like(result, { is_valid: true, error_class: null, error: null, chain_valid: true, hostname_match: true, tls_version: "TLSv1.3", days_until_expiry: 89 });
  t.deepEqual(result.resolved_ips, ["127.0.0.1"]);
  t.like(result.certificate, {
    subject_cn: "valid.test", issuer_cn: "tsmon Test Intermediate", issuer_o: "tsmon test",
    subject_alt_names: ["valid.test", "www.valid.test"], public_key_algorithm: "EC", public_key_bits: 256, is_ca: false,
  });
  t.regex(result.certificate!.fingerprint_sha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  t.regex(result.certificate!.serial_number, /^[0-9A-F]+$/);
  t.deepEqual(result.chain.map((c) => c.subject_cn), ["valid.test", "tsmon Test Intermediate", "tsmon Test Root CA"]);
  t.true(result.chain[1]!.is_ca);
  t.deepEqual(store.result(result.domain_id), result, "stored as the latest result");
  t.is(reports.length, 1);
  t.like(reports[0], { type: "report-batch", batch: { agentId: "cert-checker" } });
});

test("without ca_file the same chain is untrusted (system roots only)", async (t) => {
  const server = await serve(pki.leaf("valid.test"));
  const { result } = await checkOne(t, "valid.test", server.port, { trustRoot: false });
  t.like(result, { is_valid: false, error_class: "untrusted", chain_valid: false, chain_error: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", hostname_match: true });
});

test("a self-signed certificate is untrusted", async (t) => {
  const server = await serve(pki.selfSigned("self.test", ["DNS:self.test"]), false);
  const { result } = await checkOne(t, "self.test", server.port);
  t.like(result, { is_valid: false, error_class: "untrusted", chain_error: "DEPTH_ZERO_SELF_SIGNED_CERT", hostname_match: true });
  t.is(result.chain.length, 1);
});

test("an expired certificate is reported as expired, with negative days", async (t) => {
  const server = await serve(pki.leaf("expired.test", { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - 10 * DAY - 60_000) }));
  const { result, reports } = await checkOne(t, "expired.test", server.port);
  t.like(result, { is_valid: false, error_class: "expired", days_until_expiry: -11 });
  t.regex(result.error!, /^certificate expired \d{4}-/);
  const points = (reports[0] as Extract<IngestTask, { type: "report-batch" }>).batch.points;
  t.deepEqual(points.map((p) => [p.metric, p.value]), [["certificate.days_until_expiry", -11], ["certificate.is_valid", 0]]);
});

test("a certificate not yet valid is reported as such", async (t) => {
  const server = await serve(pki.leaf("future.test", { notBefore: new Date(Date.now() + 10 * DAY), notAfter: new Date(Date.now() + 400 * DAY) }));
  const { result } = await checkOne(t, "future.test", server.port);
  t.like(result, { is_valid: false, error_class: "not_yet_valid" });
});

test("a certificate for another name is a hostname mismatch, though its chain is fine", async (t) => {
  const server = await serve(pki.leaf("other.test"));
  const { result } = await checkOne(t, "wrong.test", server.port);
  t.like(result, { is_valid: false, error_class: "hostname_mismatch", chain_valid: true, hostname_match: false });
  t.regex(result.error!, /wrong\.test/);
});

test("a peer that accepts and never answers times out; a closed port is refused; an unknown name is a DNS failure", async (t) => {
  const silent = await startSilentServer();
  stops.push(() => silent.close());
  const hung = await checkOne(t, "hang.test", silent.port);
  t.like(hung.result, { is_valid: false, error_class: "timeout", certificate: null, days_until_expiry: null });
  t.regex(hung.result.error!, /peer accepted and went silent/);
  const points = (hung.reports[0] as Extract<IngestTask, { type: "report-batch" }>).batch.points;
  t.deepEqual(points.map((p) => [p.metric, p.value]), [["certificate.is_valid", 0]]);

  const refused = await checkOne(t, "refused.test", await refusedPort());
  t.like(refused.result, { is_valid: false, error_class: "refused" });

  const dns = await checkOne(t, "nowhere.invalid", 443);
  t.like(dns.result, { is_valid: false, error_class: "dns" });
  t.regex(dns.result.error!, /^DNS: no A or AAAA record for nowhere\.invalid/);
});

test("every resolved address is tried: one refusing does not hide the other's good certificate", async (t) => {
  const server = await serve(pki.leaf("multi.test", { rsa: true }));
  const { result } = await checkOne(t, "multi.test", server.port, { resolve: loopbackResolver({ "multi.test": ["127.0.0.1", "127.0.0.2"] }) });
  t.like(result, { is_valid: true, error_class: null });
  t.like(result.certificate, { public_key_algorithm: "RSA", public_key_bits: 2048 });
  t.deepEqual(result.addresses.map((a) => [a.ip, a.ok, a.error_class]), [["127.0.0.1", true, null], ["127.0.0.2", false, "refused"]]);
});

test("only the lease holder schedules; after it closes (releasing the lease) the other takes over", async (t) => {
  const server = await serve(pki.leaf("lease.test"));
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-cert-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = harness(t, { dir });
  const second = harness(t, { dir });
  await first.store.add([{ domain: "lease.test", port: server.port, enabled: true, check_interval_secs: null, note: null }], Date.now());
  const [a, b] = [await first.checker.tick(), await second.checker.tick()];
  t.is(a.length, 1, "the first to tick takes the lease and checks");
  t.is(b.length, 0, "the other instance does not");
  t.is(first.lease.currentHolder(), first.lease.holder);
  await first.checker.drain();
  t.truthy(first.store.result(a[0]!.id));
  await first.checker.close();
  t.is(first.lease.currentHolder(), undefined, "released on close");
  t.deepEqual(await second.checker.tick(), [], "nothing is due (checked a moment ago)");
  t.is(second.lease.currentHolder(), second.lease.holder, "but the lease is now this instance's");
});

test("the pool's threads run probes with ca_file trusted; a crashed thread is replaced and counted", async (t) => {
  const server = await serve(pki.leaf("pool.test"));
  const pool = new CertCheckerPool({
    threads: 1, perThread: 2, workerData: { extraCaPem: loadExtraCa(pki.caFile) },
    policy: { baseMs: 10, maxMs: 100, maxPerMinute: 5 }, onCrashLoop: () => t.fail("not a crash loop"),
  });
  t.teardown(() => pool.close());
  const task = { type: "probe", host: "pool.test", ip: "127.0.0.1", port: server.port, timeoutMs: 2_000 } as const;
  t.like(await pool.probe(task), { ok: true, chain_valid: true, hostname_match: true });
  await pool.crashOneForTest();
  await until("the restart", async () => (pool.restarts === 1 ? true : undefined));
  t.like(await pool.probe(task), { ok: true, chain_valid: true });
  t.is(pool.depth, 0);
});

test("ca_file must hold parseable PEM certificates", (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-ca-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.is(loadExtraCa(undefined), null);
  t.regex(loadExtraCa(pki.caFile)!, /BEGIN CERTIFICATE/);
  writeFileSync(path.join(dir, "empty.pem"), "nothing here");
  t.throws(() => loadExtraCa(path.join(dir, "empty.pem")), { message: /cert_check\.ca_file: .* holds no PEM certificate/ });
  t.throws(() => loadExtraCa(path.join(dir, "missing.pem")), { message: /cert_check\.ca_file: cannot read/ });
});
