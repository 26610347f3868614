import { z } from "zod";
import { CERT_ERROR_CLASSES } from "../../certs/types.ts";

/*
 * Request and response shapes of the certificate endpoints (field names as the reference's
 * CertDomain, CertCheckResult and CertificateDetails). Published as components by
 * schemas.ts through `certComponents`. Request schemas carry no defaults and no transforms,
 * so one JSON Schema documents them; handlers fill the defaults.
 */

const isoTime = z.string().describe("ISO 8601 UTC time");
// OpenAPI 3.0 admits null in a nullable enum only when the enum lists it.
const errorClass = z.enum(CERT_ERROR_CLASSES).nullable().meta({ enum: [...CERT_ERROR_CLASSES, null] });

const port = z.number().int().min(1).max(65535);
const interval = z.number().int().min(60).max(366 * 86400);
const note = z.string().max(500);

export const CertDomainInput = z.strictObject({
  domain: z.string().min(1).max(300).describe("host name; IDN accepted, stored as punycode"),
  port: port.optional().describe("default 443"),
  note: note.nullable().optional(),
  check_interval_secs: interval.nullable().optional().describe("overrides [cert_check] default_interval_secs"),
  enabled: z.boolean().optional().describe("default true"),
});

export const CertDomainBatchInput = z.strictObject({
  domains: z.array(CertDomainInput).min(1).max(1000),
});

export const CertDomainUpdate = z.strictObject({
  port: port.optional(),
  enabled: z.boolean().optional(),
  check_interval_secs: interval.nullable().optional().describe("null returns to the default interval"),
  note: note.nullable().optional(),
});

export const CertDomainOut = z.object({
  id: z.string(),
  domain: z.string().describe("ASCII (punycode)"),
  port: z.number().int(),
  enabled: z.boolean(),
  check_interval_secs: z.number().int().nullable(),
  note: z.string().nullable(),
  last_checked_at: isoTime.nullable(),
  created_at: isoTime,
  updated_at: isoTime,
});

const AddressOut = z.object({
  ip: z.string(),
  ok: z.boolean(),
  error_class: errorClass,
  error: z.string().nullable(),
  fingerprint_sha256: z.string().nullable().describe("of the certificate this address presented"),
});

export const CertCheckResultOut = z.object({
  domain_id: z.string(),
  domain: z.string(),
  port: z.number().int(),
  is_valid: z.boolean().describe("a certificate was obtained, in date, trusted and matching the name, from every address that answered"),
  chain_valid: z.boolean().nullable(),
  hostname_match: z.boolean().nullable(),
  not_before: isoTime.nullable(),
  not_after: isoTime.nullable(),
  days_until_expiry: z.number().int().nullable().describe("whole days left, rounded down; negative once expired"),
  issuer: z.string().nullable(),
  subject: z.string().nullable(),
  san_list: z.array(z.string()),
  resolved_ips: z.array(z.string()),
  addresses: z.array(AddressOut).describe("every resolved address was tried"),
  error_class: errorClass,
  error: z.string().nullable(),
  checked_at: isoTime,
  duration_ms: z.number().int(),
});

export const CertManualCheckOut = z.object({
  checked: z.number().int(),
  valid: z.number().int(),
  results: z.array(CertCheckResultOut),
});

export const ChainCertOut = z.object({
  depth: z.number().int().describe("0 is the server's own certificate"),
  subject: z.string(),
  issuer: z.string(),
  subject_cn: z.string().nullable(),
  issuer_cn: z.string().nullable(),
  issuer_o: z.string().nullable(),
  not_before: isoTime,
  not_after: isoTime,
  serial_number: z.string(),
  fingerprint_sha256: z.string(),
  is_ca: z.boolean(),
});

export const CertificateDetailsOut = z.object({
  domain_id: z.string(),
  domain: z.string(),
  port: z.number().int(),
  not_before: isoTime,
  not_after: isoTime,
  days_until_expiry: z.number().int(),
  ip_addresses: z.array(z.string()),
  subject_cn: z.string().nullable(),
  subject_o: z.string().nullable(),
  issuer_cn: z.string().nullable(),
  issuer_o: z.string().nullable(),
  subject_alt_names: z.array(z.string()),
  serial_number: z.string(),
  fingerprint_sha256: z.string(),
  public_key_algorithm: z.string().nullable(),
  public_key_bits: z.number().int().nullable(),
  is_ca: z.boolean(),
  chain_valid: z.boolean(),
  chain_error: z.string().nullable(),
  chain_depth: z.number().int(),
  hostname_match: z.boolean(),
  tls_version: z.string().nullable(),
  is_valid: z.boolean(),
  last_checked: isoTime,
});

export const CertificateChainOut = z.object({
  domain_id: z.string(),
  domain: z.string(),
  port: z.number().int(),
  chain_valid: z.boolean(),
  chain_error: z.string().nullable().describe("OpenSSL's reason, e.g. DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED"),
  hostname_match: z.boolean(),
  chain_depth: z.number().int(),
  chain: z.array(ChainCertOut),
  last_checked: isoTime,
});

/** Component name → schema, registered by schemas.ts. */
export const certComponents = {
  CertDomainInput, CertDomainBatchInput, CertDomainUpdate, CertDomain: CertDomainOut,
  CertCheckResult: CertCheckResultOut, CertManualCheck: CertManualCheckOut,
  CertificateDetails: CertificateDetailsOut, CertificateChain: CertificateChainOut,
};

export type CertDomainOut = z.infer<typeof CertDomainOut>;
export type CertCheckResultOut = z.infer<typeof CertCheckResultOut>;
export type CertManualCheckOut = z.infer<typeof CertManualCheckOut>;
export type CertificateDetailsOut = z.infer<typeof CertificateDetailsOut>;
export type CertificateChainOut = z.infer<typeof CertificateChainOut>;
