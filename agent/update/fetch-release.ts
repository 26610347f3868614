import { createHash, type KeyObject } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { RELEASE_VERSION, verifyRelease, type ReleaseInfo } from "../../common/agent-release.ts";

/*
 * Talking to the server's release routes (server/http/routes/agent-releases.ts): the
 * latest release's description, and its bundle, checked before anything is written.
 */

export interface ReleaseSource {
  /** The server's REST base URL (update_url). */
  baseUrl: string;
  authToken: string | undefined;
  /** PEM CA bundle for an https:// server with a private CA (the agent's ca_file). */
  caPem?: Buffer | undefined;
  /** Per request (default 60 s: a bundle is a few MB). */
  timeoutMs?: number;
}

/** The newest release the server holds, or undefined when it holds none (404). Throws saying why on anything else. */
export async function fetchLatest(source: ReleaseSource): Promise<ReleaseInfo | undefined> {
  const res = await get(source, `${source.baseUrl}/v1/agent/releases/latest`);
  const text = (await readAll(res, 64 * 1024)).toString("utf8");
  if (res.statusCode === 404) return undefined;
  if (res.statusCode !== 200) throw new Error(`GET /v1/agent/releases/latest: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  let body: Partial<ReleaseInfo>;
  try {
    body = JSON.parse(text) as Partial<ReleaseInfo>;
  } catch {
    throw new Error("GET /v1/agent/releases/latest: the answer is not JSON (is update_url the server's REST port?)");
  }
  if (typeof body.version !== "string" || !RELEASE_VERSION.test(body.version) || typeof body.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(body.sha256)
    || typeof body.size !== "number" || !Number.isSafeInteger(body.size) || body.size <= 0 || typeof body.signature !== "string" || typeof body.url !== "string") {
    throw new Error("GET /v1/agent/releases/latest: the answer is not a release description {version, sha256, size, signature, url}");
  }
  return body as ReleaseInfo;
}

/**
 * The release's bundle, read no further than its announced size, and returned only when its
 * size, SHA-256 and ed25519 signature (over version, hash and size) all check out; throws
 * naming the check that failed.
 */
export async function downloadVerified(source: ReleaseSource, release: ReleaseInfo, publicKey: KeyObject): Promise<Buffer> {
  // Checked first: a bad signature needs no download, and says the release is not ours at all.
  if (!verifyRelease(publicKey, release)) throw new Error(`signature does not verify with update_public_key (version ${release.version}, sha256 ${release.sha256}, size ${release.size})`);
  const res = await get(source, new URL(release.url, `${source.baseUrl}/`).href);
  if (res.statusCode !== 200) {
    res.resume();
    throw new Error(`download ${release.url}: HTTP ${res.statusCode}`);
  }
  const bundle = await readAll(res, release.size, () => `size mismatch: the download is larger than the announced ${release.size} bytes`);
  if (bundle.length !== release.size) throw new Error(`size mismatch: downloaded ${bundle.length} bytes, announced ${release.size}`);
  const sha256 = createHash("sha256").update(bundle).digest("hex");
  if (sha256 !== release.sha256) throw new Error(`sha256 mismatch: downloaded ${sha256}, announced ${release.sha256}`);
  return bundle;
}

/** node:http rather than fetch: fetch would keep undici's code resident in an agent that uses it once a day. */
function get(source: ReleaseSource, url: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith("https:");
    const req = (secure ? https : http).get(url, {
      headers: source.authToken ? { authorization: `Bearer ${source.authToken}` } : {},
      timeout: source.timeoutMs ?? 60_000,
      ...(secure && source.caPem ? { ca: source.caPem } : {}),
    }, resolve);
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${(source.timeoutMs ?? 60_000) / 1000} s`)));
    req.on("error", reject);
  });
}

/** The whole body, refused past `max` bytes (the request is then cut). */
async function readAll(res: http.IncomingMessage, max: number, tooLarge = () => `answer larger than ${max} bytes`): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      res.destroy();
      throw new Error(tooLarge());
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
