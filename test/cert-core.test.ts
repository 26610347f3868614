import test from "ava";
import { normalizeDomain } from "../server/certs/domain-name.ts";
import { dueDomains, nextDueMs, type ScheduleSettings } from "../server/certs/schedule.ts";
import { Semaphore } from "../server/certs/semaphore.ts";
import type { CertDomain, CertInfo, ProbeOutcome } from "../server/certs/types.ts";
import { buildResult, daysUntil, resultBatch } from "../server/certs/verdict.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const settings: ScheduleSettings = { defaultIntervalSecs: 86_400, retryFailedSecs: 300 };

function domain(id: string, over: Partial<CertDomain> = {}): CertDomain {
  return { id, domain: `${id}.example`, port: 443, enabled: true, check_interval_secs: null, note: null, created_at: T0, updated_at: T0, ...over };
}

function cert(over: Partial<CertInfo> = {}): CertInfo {
  return {
    subject: "CN=a.example", issuer: "O=Test, CN=Test CA", subject_cn: "a.example", subject_o: null, issuer_cn: "Test CA", issuer_o: "Test",
    not_before: T0 - 10 * DAY, not_after: T0 + 30 * DAY, serial_number: "01", fingerprint_sha256: "AA:BB", subject_alt_names: ["DNS:a.example"],
    public_key_algorithm: "EC", public_key_bits: 256, is_ca: false, ...over,
  };
}

function ok(ip: string, leaf: CertInfo = cert(), over: Partial<Extract<ProbeOutcome, { ok: true }>> = {}): ProbeOutcome {
  return { ok: true, ip, tls_version: "TLSv1.3", chain: [leaf], chain_valid: true, chain_error: null, hostname_match: true, hostname_error: null, ...over };
}

test("domain names: IDN to punycode, case and trailing dot folded; IPs, URLs and bad labels refused with a reason", (t) => {
  t.deepEqual(normalizeDomain("münchen.de"), { ok: true, ascii: "xn--mnchen-3ya.de" });
  t.deepEqual(normalizeDomain(" Example.COM. "), { ok: true, ascii: "example.com" });
  t.deepEqual(normalizeDomain("localhost"), { ok: true, ascii: "localhost" });
  const refused = (raw: string, pattern: RegExp) => {
    const r = normalizeDomain(raw);
    t.false(r.ok, raw);
    if (!r.ok) t.regex(r.why, pattern, raw);
  };
  refused("", /empty/);
  refused("10.0.0.1", /IP address/);
  refused("::1", /IP address/);
  refused("1.2.3", /not a valid domain|IP address/);
  refused("https://example.com", /bare host name/);
  refused("example.com:443", /bare host name/);
  refused("exa mple.com", /bare host name/);
  refused("-bad.example", /label "-bad"/);
  refused("a..b", /label ""/);
  refused("a".repeat(64) + ".com", /1–63/);
  refused("host.123", /all digits|not a valid domain/);
});

test("schedule: never-checked domains are due at once, then after their own or the default interval", (t) => {
  const a = domain("a");
  const b = domain("b", { check_interval_secs: 3600 });
  const results = new Map([["a", { checked_at: T0, error_class: null }], ["b", { checked_at: T0, error_class: null }]]);
  t.is(nextDueMs(a, undefined, settings), 0);
  t.is(nextDueMs(a, results.get("a"), settings), T0 + DAY);
  t.is(nextDueMs(b, results.get("b"), settings), T0 + 3_600_000);

  const c = domain("c");
  const all = [a, b, c];
  const due = (now: number, inFlight = new Set<string>()) => dueDomains(all, (id) => results.get(id), inFlight, now, settings).map((d) => d.id);
  t.deepEqual(due(T0), ["c"]);
  t.deepEqual(due(T0 + 3_600_000 - 1), ["c"]);
  t.deepEqual(due(T0 + 3_600_000), ["c", "b"], "never-checked first, then the most overdue");
  t.deepEqual(due(T0 + DAY), ["c", "b", "a"]);
  t.deepEqual(due(T0 + DAY, new Set(["c", "a"])), ["b"], "a check under way is not started twice");
});

test("schedule: disabled domains never run; a transient failure retries sooner, a certificate problem does not", (t) => {
  const off = domain("off", { enabled: false });
  t.deepEqual(dueDomains([off], () => undefined, new Set(), T0, settings), []);
  const d = domain("d");
  t.is(nextDueMs(d, { checked_at: T0, error_class: "timeout" }, settings), T0 + 300_000);
  t.is(nextDueMs(d, { checked_at: T0, error_class: "dns" }, settings), T0 + 300_000);
  t.is(nextDueMs(d, { checked_at: T0, error_class: "expired" }, settings), T0 + DAY);
  const short = domain("s", { check_interval_secs: 60 });
  t.is(nextDueMs(short, { checked_at: T0, error_class: "refused" }, settings), T0 + 60_000, "never later than the domain's own interval");
});

test("verdict: a good certificate from every address is valid; whole days are rounded down", (t) => {
  const r = buildResult({ id: "a", domain: "a.example", port: 443 }, { ips: ["192.0.2.1", "2001:db8::1"] }, [ok("192.0.2.1"), ok("2001:db8::1")], T0, 12.4);
  t.like(r, { is_valid: true, error_class: null, error: null, days_until_expiry: 30, chain_valid: true, hostname_match: true, duration_ms: 12 });
  t.deepEqual(r.resolved_ips, ["192.0.2.1", "2001:db8::1"]);
  t.is(r.addresses.length, 2);
  t.is(daysUntil(T0 + DAY - 1, T0), 0);
  t.is(daysUntil(T0 - 1, T0), -1);
});

test("verdict: an unreachable address is recorded but does not invalidate the others' good certificate", (t) => {
  const down: ProbeOutcome = { ok: false, ip: "2001:db8::1", error_class: "unreachable", error: "connect ENETUNREACH" };
  const r = buildResult({ id: "a", domain: "a.example", port: 443 }, { ips: ["192.0.2.1", "2001:db8::1"] }, [ok("192.0.2.1"), down], T0, 1);
  t.true(r.is_valid);
  t.like(r.addresses[1], { ip: "2001:db8::1", ok: false, error_class: "unreachable" });
});

test("verdict: the certificate expiring first is reported, and any address's problem invalidates the domain", (t) => {
  const soon = cert({ not_after: T0 + 3 * DAY, fingerprint_sha256: "SOON" });
  const r = buildResult({ id: "a", domain: "a.example", port: 443 }, { ips: ["192.0.2.1", "192.0.2.2"] },
    [ok("192.0.2.1"), ok("192.0.2.2", soon, { hostname_match: false, hostname_error: "not in altnames" })], T0, 1);
  t.false(r.is_valid);
  t.is(r.days_until_expiry, 3);
  t.is(r.certificate?.fingerprint_sha256, "SOON");
  t.is(r.error_class, "hostname_mismatch");
  t.is(r.error, "192.0.2.2: not in altnames");
});

test("verdict: expiry outranks other problems; an intermediate's expiry counts as expired", (t) => {
  const expired = cert({ not_after: T0 - DAY });
  const r = buildResult({ id: "a", domain: "a.example", port: 443 }, { ips: ["192.0.2.1"] },
    [ok("192.0.2.1", expired, { chain_valid: false, chain_error: "CERT_HAS_EXPIRED", hostname_match: false, hostname_error: "mismatch" })], T0, 1);
  t.like(r, { is_valid: false, error_class: "expired", days_until_expiry: -1 });
  t.regex(r.error!, /expired .*; mismatch$/);
  const intermediate = buildResult({ id: "a", domain: "a.example", port: 443 }, { ips: ["192.0.2.1"] },
    [ok("192.0.2.1", cert(), { chain_valid: false, chain_error: "CERT_HAS_EXPIRED" })], T0, 1);
  t.like(intermediate, { error_class: "expired", error: "chain not trusted: CERT_HAS_EXPIRED" });
  const future = buildResult({ id: "a", domain: "a.example", port: 443 }, { ips: ["192.0.2.1"] },
    [ok("192.0.2.1", cert({ not_before: T0 + DAY }), { chain_valid: false, chain_error: "CERT_NOT_YET_VALID" })], T0, 1);
  t.like(future, { error_class: "not_yet_valid" });
});

test("verdict: no handshake anywhere is a failure of the first address's class; DNS failures have no addresses", (t) => {
  const r = buildResult({ id: "a", domain: "a.example", port: 443 }, { ips: ["192.0.2.1", "192.0.2.2"] }, [
    { ok: false, ip: "192.0.2.1", error_class: "timeout", error: "no TLS handshake within 1000 ms" },
    { ok: false, ip: "192.0.2.2", error_class: "refused", error: "connection refused" },
  ], T0, 1);
  t.like(r, { is_valid: false, error_class: "timeout", certificate: null, days_until_expiry: null });
  t.is(r.error, "192.0.2.1: no TLS handshake within 1000 ms; 192.0.2.2: connection refused");
  const dns = buildResult({ id: "a", domain: "a.example", port: 443 }, { error: "DNS: no A or AAAA record for a.example" }, [], T0, 1);
  t.like(dns, { is_valid: false, error_class: "dns", error: "DNS: no A or AAAA record for a.example" });
  t.deepEqual(dns.resolved_ips, []);
});

test("samples: one report as cert-checker with the domain label (and port when not 443)", (t) => {
  const good = buildResult({ id: "a", domain: "a.example", port: 443 }, { ips: ["192.0.2.1"] }, [ok("192.0.2.1")], T0, 1);
  t.deepEqual(resultBatch(good), {
    agentId: "cert-checker", timestampMs: T0, points: [
      { timestampMs: T0, metric: "certificate.days_until_expiry", value: 30, labels: { domain: "a.example" } },
      { timestampMs: T0, metric: "certificate.is_valid", value: 1, labels: { domain: "a.example" } },
    ],
  });
  const failed = buildResult({ id: "b", domain: "b.example", port: 8443 }, { error: "DNS: nope" }, [], T0, 1);
  t.deepEqual(resultBatch(failed).points, [{ timestampMs: T0, metric: "certificate.is_valid", value: 0, labels: { domain: "b.example", port: "8443" } }]);
});

test("semaphore: never more holders than permits, waiters served in order", async (t) => {
  const sem = new Semaphore(3);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  const gates: (() => void)[] = [];
  const jobs = Array.from({ length: 10 }, (_, i) => sem.run(async () => {
    active++;
    peak = Math.max(peak, active);
    order.push(i);
    await new Promise<void>((resolve) => gates.push(resolve));
    active--;
  }));
  while (order.length < 10) {
    await new Promise((r) => setImmediate(r));
    t.true(sem.inUse <= 3);
    gates.shift()?.();
  }
  while (gates.length) gates.shift()!();
  await Promise.all(jobs);
  t.is(peak, 3);
  t.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.is(sem.inUse, 0);
});
