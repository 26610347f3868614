/*
 * The cert-checker's data: what is monitored, what one handshake finds, and what a whole
 * check concludes. Times are epoch milliseconds; all of it is plain data (it crosses
 * threads and is stored in LMDB as is).
 */

/** A monitored TLS endpoint. `domain` is ASCII (IDN as punycode), lower case. */
export interface CertDomain {
  id: string;
  domain: string;
  port: number;
  enabled: boolean;
  /** Overrides `[cert_check] default_interval_secs` when set. */
  check_interval_secs: number | null;
  note: string | null;
  created_at: number;
  updated_at: number;
}

/** Why a check failed, most specific first: network classes, then certificate problems. */
export const CERT_ERROR_CLASSES = [
  "dns", "timeout", "refused", "unreachable", "handshake",
  "expired", "not_yet_valid", "hostname_mismatch", "untrusted", "internal",
] as const;
export type CertErrorClass = (typeof CERT_ERROR_CLASSES)[number];

/** Failures before a certificate was seen; a later check may well succeed. */
export const TRANSIENT_ERROR_CLASSES: ReadonlySet<CertErrorClass> = new Set(["dns", "timeout", "refused", "unreachable", "handshake", "internal"]);

/** One certificate as a server presented it. */
export interface CertInfo {
  /** Distinguished names, `K=V` joined by ", " in the certificate's order. */
  subject: string;
  issuer: string;
  subject_cn: string | null;
  subject_o: string | null;
  issuer_cn: string | null;
  issuer_o: string | null;
  not_before: number;
  not_after: number;
  /** Upper-case hex. */
  serial_number: string;
  /** Colon-separated upper-case hex of the DER's SHA-256. */
  fingerprint_sha256: string;
  /** Plain names as the reference shows them (`example.com`, `10.0.0.1`); san-names.ts. */
  subject_alt_names: string[];
  public_key_algorithm: string | null;
  public_key_bits: number | null;
  is_ca: boolean;
}

/** What one TLS handshake to one address found. */
export type ProbeOutcome =
  | { ok: false; ip: string; error_class: CertErrorClass; error: string }
  | {
    ok: true;
    ip: string;
    tls_version: string | null;
    /** Leaf first, then each issuer the server sent (or the verifier found). */
    chain: CertInfo[];
    /** OpenSSL's verdict against the system roots plus `ca_file` (trust path, signatures, dates). */
    chain_valid: boolean;
    chain_error: string | null;
    hostname_match: boolean;
    hostname_error: string | null;
  };

/** How one resolved address answered. */
export interface AddressResult {
  ip: string;
  ok: boolean;
  error_class: CertErrorClass | null;
  error: string | null;
  fingerprint_sha256: string | null;
}

/** The latest check of one domain (what `/v1/certs/status` and `/v1/certificates` serve). */
export interface CertCheckResult {
  domain_id: string;
  domain: string;
  port: number;
  checked_at: number;
  duration_ms: number;
  /** A certificate was obtained and every address that presented one passed every test. */
  is_valid: boolean;
  error_class: CertErrorClass | null;
  /** Every problem found, naming the address when the domain has several. */
  error: string | null;
  resolved_ips: string[];
  addresses: AddressResult[];
  /** From the address whose certificate expires first; null when no handshake completed. */
  certificate: CertInfo | null;
  chain: CertInfo[];
  chain_valid: boolean | null;
  chain_error: string | null;
  hostname_match: boolean | null;
  tls_version: string | null;
  /** Whole days left, rounded down: negative once expired. */
  days_until_expiry: number | null;
}
