import { X509Certificate } from "node:crypto";
import tls, { type DetailedPeerCertificate, type SecureContext } from "node:tls";
import type { CertErrorClass, CertInfo, ProbeOutcome } from "./types.ts";
import { plainSanNames } from "./san-names.ts";

export interface ProbeRequest {
  /** The name sent as SNI and checked against the certificate. */
  host: string;
  ip: string;
  port: number;
  /** The whole probe (TCP connect and TLS handshake) ends by then. */
  timeoutMs: number;
}

/** A secure context trusting the system roots plus the PEM certificates in `extraCaPem`. */
export function trustContext(extraCaPem: string | null): SecureContext | undefined {
  return extraCaPem ? tls.createSecureContext({ ca: [...tls.rootCertificates, extraCaPem] }) : undefined;
}

/**
 * One TLS handshake with SNI to one address; never throws and never outlasts `timeoutMs`
 * (a peer that accepts and stays silent is cut off). The certificate is read whatever is
 * wrong with it: chain and host name are judged here, dates by the caller's clock.
 */
export function probe(req: ProbeRequest, secureContext?: SecureContext): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    const socket = tls.connect({
      host: req.ip, port: req.port, servername: req.host, secureContext,
      rejectUnauthorized: false,
      // Host names are judged separately, so `authorized` is the chain's verdict alone.
      checkServerIdentity: () => undefined,
    });
    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const fail = (error_class: CertErrorClass, error: string) => finish({ ok: false, ip: req.ip, error_class, error });
    const timer = setTimeout(() => fail("timeout", connected
      ? `no TLS handshake within ${req.timeoutMs} ms (the peer accepted and went silent)`
      : `no TCP connection within ${req.timeoutMs} ms`), req.timeoutMs);
    socket.once("connect", () => { connected = true; });
    socket.once("secureConnect", () => {
      try {
        finish(readPeer(socket, req));
      } catch (err) {
        fail("handshake", `unreadable certificate: ${(err as Error).message}`);
      }
    });
    socket.once("error", (err: NodeJS.ErrnoException) => fail(...classify(err, connected)));
    socket.once("close", () => fail("handshake", "the peer closed the connection during the TLS handshake"));
  });
}

function readPeer(socket: tls.TLSSocket, req: ProbeRequest): ProbeOutcome {
  const peer = socket.getPeerCertificate(true);
  if (!peer?.raw) return { ok: false, ip: req.ip, error_class: "handshake", error: "the server presented no certificate" };
  const chain: CertInfo[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = peer; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    chain.push(certInfo(new X509Certificate(c.raw)));
  }
  const identity = tls.checkServerIdentity(req.host, peer);
  return {
    ok: true, ip: req.ip, tls_version: socket.getProtocol(), chain,
    chain_valid: socket.authorized,
    chain_error: socket.authorized ? null : String(socket.authorizationError ?? "unknown"),
    hostname_match: identity === undefined,
    hostname_error: identity ? identity.message : null,
  };
}

function classify(err: NodeJS.ErrnoException, connected: boolean): [CertErrorClass, string] {
  switch (err.code) {
    case "ECONNREFUSED": return ["refused", `connection refused (${err.message})`];
    case "ETIMEDOUT": return ["timeout", err.message];
    case "EHOSTUNREACH": case "ENETUNREACH": case "EADDRNOTAVAIL": case "EAFNOSUPPORT":
      return ["unreachable", err.message];
    case "ECONNRESET": case "EPIPE":
      return connected ? ["handshake", `connection reset during the TLS handshake (${err.code})`] : ["refused", err.message];
    default: return ["handshake", err.message];
  }
}

/** The fields the API reports, from one certificate. */
export function certInfo(x: X509Certificate): CertInfo {
  const subject = parseDn(x.subject);
  const issuer = parseDn(x.issuer);
  return {
    subject: joinDn(x.subject), issuer: joinDn(x.issuer),
    subject_cn: subject.CN ?? null, subject_o: subject.O ?? null,
    issuer_cn: issuer.CN ?? null, issuer_o: issuer.O ?? null,
    not_before: Date.parse(x.validFrom), not_after: Date.parse(x.validTo),
    serial_number: x.serialNumber.toUpperCase(),
    fingerprint_sha256: x.fingerprint256,
    subject_alt_names: plainSanNames(x.subjectAltName),
    ...publicKey(x),
    is_ca: x.ca,
  };
}

const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp256k1: 256, secp384r1: 384, secp521r1: 521 };
const KEY_NAMES: Record<string, [string, number?]> = { rsa: ["RSA"], "rsa-pss": ["RSA-PSS"], dsa: ["DSA"], ec: ["EC"], ed25519: ["Ed25519", 256], ed448: ["Ed448", 456] };

function publicKey(x: X509Certificate): { public_key_algorithm: string | null; public_key_bits: number | null } {
  try {
    const key = x.publicKey;
    const type = key.asymmetricKeyType ?? "";
    const details = key.asymmetricKeyDetails ?? {};
    const [name, fixedBits] = KEY_NAMES[type] ?? [type || "unknown"];
    const bits = fixedBits ?? details.modulusLength ?? (details.namedCurve ? CURVE_BITS[details.namedCurve] : undefined);
    return { public_key_algorithm: name, public_key_bits: bits ?? null };
  } catch {
    return { public_key_algorithm: null, public_key_bits: null };
  }
}

/** `O=Example\nCN=example.com` → `{ O: "Example", CN: "example.com" }` (first value of each key). */
export function parseDn(dn: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of dn.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && !(line.slice(0, eq) in out)) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function joinDn(dn: string): string {
  return dn.split("\n").filter(Boolean).join(", ");
}
