import { createPublicKey, verify, type KeyObject } from "node:crypto";

/*
 * What server and agent agree on about an agent release: how versions compare, the text the
 * ed25519 signature covers, and how a public key is written. Node's crypto only: the agent
 * bundle adds no library for this.
 */

/** `1.2.3` or `1.2.3-rc.1`: what `POST /v1/agent/releases` accepts and agents compare. */
export const RELEASE_VERSION = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(?:-([0-9A-Za-z][0-9A-Za-z.-]{0,63}))?$/;

/** A release as `GET /v1/agent/releases/latest` describes it. */
export interface ReleaseInfo {
  version: string;
  /** Hex SHA-256 of the bundle (a .tar.gz of the agent's bundle directory). */
  sha256: string;
  size: number;
  /** Base64 ed25519 signature of `signedText(version, sha256, size)`. */
  signature: string;
  /** Where the bundle is downloaded (a path on the server, or an absolute URL). */
  url: string;
}

/**
 * The exact bytes a release signature covers: a fixed first line, the version, the bundle's
 * hex SHA-256 and its size, each line ending in `\n`. Signing this rather than the bundle
 * binds the version: an old bundle cannot be served under a newer version's name.
 */
export function signedText(version: string, sha256: string, size: number): Buffer {
  return Buffer.from(`tsmon-agent-release\n${version}\n${sha256}\n${size}\n`, "utf8");
}

/** Whether `signature` (base64) is `publicKey`'s ed25519 signature of the release's signed text. */
export function verifyRelease(publicKey: KeyObject, release: Pick<ReleaseInfo, "version" | "sha256" | "size" | "signature">): boolean {
  const signature = Buffer.from(release.signature, "base64");
  if (signature.length !== 64) return false;
  return verify(null, signedText(release.version, release.sha256, release.size), publicKey, signature);
}

/**
 * An ed25519 public key from a PEM block (`openssl pkey -pubout`) or the base64 line inside
 * it (DER SubjectPublicKeyInfo, `MCowBQYDK2VwAyEA…`, 60 characters). Throws saying why not.
 */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith("-----BEGIN")
      ? createPublicKey(trimmed)
      : createPublicKey({ key: Buffer.from(trimmed.replace(/\s+/g, ""), "base64"), format: "der", type: "spki" });
  } catch (err) {
    throw new Error(`not a PEM public key nor the base64 of one (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`an ${key.asymmetricKeyType ?? "unknown"} key; an ed25519 key is needed (openssl genpkey -algorithm ed25519)`);
  return key;
}

/** Negative, zero or positive as version `a` is older than, the same as, or newer than `b` (semver order). */
export function compareVersions(a: string, b: string): number {
  const pa = RELEASE_VERSION.exec(a), pb = RELEASE_VERSION.exec(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d;
  }
  // A pre-release comes before its release; two pre-releases compare by their dot-separated parts.
  if (pa[4] === pb[4]) return 0;
  if (pa[4] === undefined) return 1;
  if (pb[4] === undefined) return -1;
  const xs = pa[4].split("."), ys = pb[4].split(".");
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i]!, y = ys[i]!;
    if (x === y) continue;
    const nx = /^\d+$/.test(x), ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return xs.length - ys.length;
}
