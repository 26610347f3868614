import { TsmonError } from "../../common/errors.ts";
import { normalizeDomain } from "../certs/domain-name.ts";
import { withoutSanPrefix } from "../certs/san-names.ts";
import type { CertCheckResult, CertDomain } from "../certs/types.ts";
import type { CertStore } from "../storage/cert-store.ts";
import { badRequest } from "./errors.ts";
import type { CertCheckResultOut, CertDomainOut, CertificateChainOut, CertificateDetailsOut } from "./openapi/cert-schemas.ts";
import { intParam } from "./params.ts";

/*
 * How the certificate endpoints shape stored domains and results (epoch ms → ISO 8601,
 * field names of the reference), and how they find a result from a domain in the path.
 */

const iso = (ms: number) => new Date(ms).toISOString();

export function domainOut(d: CertDomain, last: CertCheckResult | undefined): CertDomainOut {
  return {
    id: d.id, domain: d.domain, port: d.port, enabled: d.enabled, check_interval_secs: d.check_interval_secs, note: d.note,
    last_checked_at: last ? iso(last.checked_at) : null, created_at: iso(d.created_at), updated_at: iso(d.updated_at),
  };
}

export function statusOut(r: CertCheckResult): CertCheckResultOut {
  const c = r.certificate;
  return {
    domain_id: r.domain_id, domain: r.domain, port: r.port, is_valid: r.is_valid,
    chain_valid: r.chain_valid, hostname_match: r.hostname_match,
    not_before: c ? iso(c.not_before) : null, not_after: c ? iso(c.not_after) : null, days_until_expiry: r.days_until_expiry,
    issuer: c?.issuer ?? null, subject: c?.subject ?? null, san_list: c ? withoutSanPrefix(c.subject_alt_names) : [],
    resolved_ips: r.resolved_ips, addresses: r.addresses,
    error_class: r.error_class, error: r.error, checked_at: iso(r.checked_at), duration_ms: r.duration_ms,
  };
}

/** A result that holds a certificate (the `/v1/certificates` views need one). */
export type WithCertificate = CertCheckResult & { certificate: NonNullable<CertCheckResult["certificate"]> };

export function hasCertificate(r: CertCheckResult): r is WithCertificate {
  return r.certificate !== null;
}

export function detailsOut(r: WithCertificate): CertificateDetailsOut {
  const c = r.certificate;
  return {
    domain_id: r.domain_id, domain: r.domain, port: r.port,
    not_before: iso(c.not_before), not_after: iso(c.not_after), days_until_expiry: r.days_until_expiry ?? 0,
    ip_addresses: r.resolved_ips,
    subject_cn: c.subject_cn, subject_o: c.subject_o, issuer_cn: c.issuer_cn, issuer_o: c.issuer_o,
    subject_alt_names: withoutSanPrefix(c.subject_alt_names), serial_number: c.serial_number, fingerprint_sha256: c.fingerprint_sha256,
    public_key_algorithm: c.public_key_algorithm, public_key_bits: c.public_key_bits, is_ca: c.is_ca,
    chain_valid: r.chain_valid ?? false, chain_error: r.chain_error, chain_depth: r.chain.length,
    hostname_match: r.hostname_match ?? false, tls_version: r.tls_version, is_valid: r.is_valid, last_checked: iso(r.checked_at),
  };
}

export function chainOut(r: WithCertificate): CertificateChainOut {
  return {
    domain_id: r.domain_id, domain: r.domain, port: r.port,
    chain_valid: r.chain_valid ?? false, chain_error: r.chain_error, hostname_match: r.hostname_match ?? false,
    chain_depth: r.chain.length,
    chain: r.chain.map((c, depth) => ({
      depth, subject: c.subject, issuer: c.issuer, subject_cn: c.subject_cn, issuer_cn: c.issuer_cn, issuer_o: c.issuer_o,
      not_before: iso(c.not_before), not_after: iso(c.not_after), serial_number: c.serial_number,
      fingerprint_sha256: c.fingerprint_sha256, is_ca: c.is_ca,
    })),
    last_checked: iso(r.checked_at),
  };
}

/** A domain given in a path (IDN or punycode) in its stored form; 400 naming `domain` otherwise. */
export function pathDomain(raw: string): string {
  const checked = normalizeDomain(raw);
  if (!checked.ok) throw badRequest("domain", checked.why);
  return checked.ascii;
}

/**
 * The latest result of a domain given in a path: on `port` when given, else on 443 when
 * monitored there, else on its lowest port. 404 says whether it is unknown or unchecked.
 */
export function findResult(store: CertStore, rawDomain: string, rawPort: string | undefined): CertCheckResult {
  const domain = pathDomain(rawDomain);
  const port = rawPort === undefined ? undefined : intParam(rawPort, "port", 443, 1, 65535);
  const results = store.resultsFor(domain).filter((r) => port === undefined || r.port === port);
  const found = results.find((r) => r.port === 443) ?? results[0];
  if (found) return found;
  const where = port === undefined ? domain : `${domain}:${port}`;
  const monitored = store.all().some((d) => d.domain === domain && (port === undefined || d.port === port));
  throw new TsmonError("NOT_FOUND", monitored ? `${where} has not been checked yet` : `${where} is not monitored`);
}

/** As findResult, and the check must have obtained a certificate. */
export function findCertificate(store: CertStore, rawDomain: string, rawPort: string | undefined): WithCertificate {
  const r = findResult(store, rawDomain, rawPort);
  if (!hasCertificate(r)) throw new TsmonError("NOT_FOUND", `no certificate was obtained from ${r.domain}:${r.port} (${r.error_class}: ${r.error})`);
  return r;
}
