import type { MetricBatch } from "../../common/metrics.ts";
import type { AddressResult, CertCheckResult, CertDomain, CertErrorClass, CertInfo, ProbeOutcome } from "./types.ts";

const DAY_MS = 86_400_000;

/** The agent id under which certificate samples are stored (as the reference does). */
export const CERT_AGENT_ID = "cert-checker";

type Probed = Extract<ProbeOutcome, { ok: true }>;
interface Problem { cls: CertErrorClass; text: string }

/** Whole days until `notAfter`, rounded down (negative once expired). */
export function daysUntil(notAfter: number, nowMs: number): number {
  return Math.floor((notAfter - nowMs) / DAY_MS);
}

/** What is wrong with one presented certificate at `nowMs`, worst first. */
export function certificateProblems(p: Probed, host: string, nowMs: number): Problem[] {
  const problems: Problem[] = [];
  const leaf = p.chain[0];
  if (!leaf) return [{ cls: "handshake", text: "the server presented no certificate" }];
  if (nowMs > leaf.not_after) problems.push({ cls: "expired", text: `certificate expired ${new Date(leaf.not_after).toISOString()}` });
  else if (nowMs < leaf.not_before) problems.push({ cls: "not_yet_valid", text: `certificate not valid before ${new Date(leaf.not_before).toISOString()}` });
  if (!p.hostname_match) problems.push({ cls: "hostname_mismatch", text: p.hostname_error ?? `certificate does not cover ${host}` });
  if (!p.chain_valid) {
    const dateOnly = p.chain_error === "CERT_HAS_EXPIRED" || p.chain_error === "CERT_NOT_YET_VALID";
    // The leaf's own dates are reported above; a date error with a leaf in date is an intermediate's.
    if (!dateOnly || problems.every((x) => x.cls !== "expired" && x.cls !== "not_yet_valid")) {
      problems.push({ cls: dateOnly ? "expired" : "untrusted", text: `chain not trusted: ${p.chain_error ?? "unknown reason"}` });
    }
  }
  return problems;
}

const PRECEDENCE: CertErrorClass[] = ["expired", "not_yet_valid", "hostname_mismatch", "untrusted", "handshake"];

/**
 * The whole check of one domain from what each address answered (pure, clock passed in).
 * Every address is tried; unreachable ones are recorded but do not invalidate a domain
 * whose other addresses present a good certificate. The certificate reported is the one
 * expiring first, since that is the one an expiry alert must follow.
 */
export function buildResult(
  domain: Pick<CertDomain, "id" | "domain" | "port">,
  resolved: { ips: string[] } | { error: string },
  probes: readonly ProbeOutcome[],
  nowMs: number,
  durationMs: number,
): CertCheckResult {
  const base = {
    domain_id: domain.id, domain: domain.domain, port: domain.port, checked_at: nowMs, duration_ms: Math.round(durationMs),
    certificate: null, chain: [], chain_valid: null, chain_error: null, hostname_match: null, tls_version: null, days_until_expiry: null,
  };
  if ("error" in resolved) {
    return { ...base, is_valid: false, error_class: "dns", error: resolved.error, resolved_ips: [], addresses: [] };
  }
  const several = probes.length > 1;
  const at = (ip: string, text: string) => (several ? `${ip}: ${text}` : text);
  const addresses: AddressResult[] = [];
  const problems: Problem[] = [];
  const failures: Problem[] = [];
  let primary: Probed | undefined;
  for (const p of probes) {
    if (!p.ok) {
      addresses.push({ ip: p.ip, ok: false, error_class: p.error_class, error: p.error, fingerprint_sha256: null });
      failures.push({ cls: p.error_class, text: at(p.ip, p.error) });
      continue;
    }
    const found = certificateProblems(p, domain.domain, nowMs);
    const leaf = p.chain[0];
    addresses.push({
      ip: p.ip, ok: found.length === 0, error_class: found[0]?.cls ?? null,
      error: found.length ? found.map((x) => x.text).join("; ") : null, fingerprint_sha256: leaf?.fingerprint_sha256 ?? null,
    });
    for (const x of found) problems.push({ cls: x.cls, text: at(p.ip, x.text) });
    if (leaf && (!primary || leaf.not_after < primary.chain[0]!.not_after)) primary = p;
  }
  if (!primary) {
    const first = failures[0] ?? { cls: "dns" as const, text: `no A or AAAA record for ${domain.domain}` };
    return { ...base, is_valid: false, error_class: first.cls, error: failures.length ? failures.map((f) => f.text).join("; ") : first.text, resolved_ips: resolved.ips, addresses };
  }
  const leaf: CertInfo = primary.chain[0]!;
  const worst = PRECEDENCE.find((cls) => problems.some((x) => x.cls === cls)) ?? null;
  return {
    ...base,
    is_valid: problems.length === 0,
    error_class: worst,
    error: problems.length ? problems.map((x) => x.text).join("; ") : null,
    resolved_ips: resolved.ips,
    addresses,
    certificate: leaf,
    chain: primary.chain,
    chain_valid: primary.chain_valid,
    chain_error: primary.chain_error,
    hostname_match: primary.hostname_match,
    tls_version: primary.tls_version,
    days_until_expiry: daysUntil(leaf.not_after, nowMs),
  };
}

/**
 * The report one check feeds into ingest, as agent `cert-checker`: `certificate.is_valid`
 * always, `certificate.days_until_expiry` when a certificate was seen. The `domain` label
 * follows the reference; a port other than 443 adds a `port` label so endpoints stay apart.
 */
export function resultBatch(r: CertCheckResult): MetricBatch {
  const labels: Record<string, string> = { domain: r.domain };
  if (r.port !== 443) labels.port = String(r.port);
  const points = [{ timestampMs: r.checked_at, metric: "certificate.is_valid", value: r.is_valid ? 1 : 0, labels }];
  if (r.days_until_expiry !== null) {
    points.unshift({ timestampMs: r.checked_at, metric: "certificate.days_until_expiry", value: r.days_until_expiry, labels });
  }
  return { agentId: CERT_AGENT_ID, timestampMs: r.checked_at, points };
}
