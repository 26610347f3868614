import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Router } from "@koa/router";
import type { Context } from "koa";
import { RELEASE_VERSION, verifyRelease, type ReleaseInfo } from "../../../common/agent-release.ts";
import { TsmonError } from "../../../common/errors.ts";
import { loadReleaseKeys, type ReleaseKeys } from "../../updates/release-keys.ts";
import { ReleaseStore, type StoredRelease } from "../../updates/release-store.ts";
import type { HttpDeps } from "../context.ts";
import { badRequest } from "../errors.ts";

/*
 * Agent self-update (docs/agent-update.md): an admin uploads an agent bundle (a .tar.gz of
 * the directory `npm run build:agent` writes) with its version; agents ask for the latest
 * and download it with their token. Every release is signed with ed25519: by the server's
 * key ([updates] signing_key_file), or by the uploader (`signature`, checked against the
 * server's public key when it has one).
 */

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

export function agentReleasesRouter(deps: Pick<HttpDeps, "config" | "log">): Router {
  const router = new Router();
  // Made on first use (the routers are also built without a config, to list their routes);
  // preflight has already refused key files that do not load.
  let state: { store: ReleaseStore; keys: ReleaseKeys; maxBytes: number } | undefined;
  const open = () => (state ??= { store: new ReleaseStore(deps.config.data_dir), keys: loadReleaseKeys(deps.config.updates), maxBytes: deps.config.updates.max_bundle_bytes });

  /**
   * @openapi
   * /v1/agent/releases:
   *   get:
   *     summary: Every agent release this server holds, newest version first.
   *     tags: [agent-updates]
   *     responses:
   *       200:
   *         description: The releases.
   *         content:
   *           application/json:
   *             schema: { type: array, items: { $ref: '#/components/schemas/StoredAgentRelease' } }
   *   post:
   *     summary: Upload an agent bundle (a .tar.gz of the agent's bundle directory) as release `version`.
   *     description: >-
   *       The body is the bundle itself (`curl --data-binary @bundle.tar.gz`). Without an
   *       `x-tsmon-signature` header the server signs it with [updates] signing_key_file; with one,
   *       the signature is checked against the server's public key when it has one. A version is uploaded once.
   *     tags: [agent-updates]
   *     parameters:
   *       - { name: version, in: query, required: true, schema: { type: string }, description: "semver, e.g. 1.4.0" }
   *       - { name: x-tsmon-signature, in: header, required: false, schema: { type: string }, description: "base64 ed25519 signature of the release (see AgentRelease.signature)" }
   *     requestBody:
   *       required: true
   *       content:
   *         application/gzip: { schema: { type: string, format: binary } }
   *         application/octet-stream: { schema: { type: string, format: binary } }
   *     responses:
   *       201: { description: Stored., content: { application/json: { schema: { $ref: '#/components/schemas/StoredAgentRelease' } } } }
   *       400: { description: "Bad version, a body that is not gzip, a bad signature, or no way to sign.", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       401: { description: No credential., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       403: { description: Not an admin., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       409: { description: That version is already stored., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       413: { description: "Larger than [updates] max_bundle_bytes.", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       415: { description: Not sent as application/gzip or application/octet-stream., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/agent/releases", (ctx) => {
    ctx.body = open().store.list().map(describe);
  });

  router.post("/v1/agent/releases", async (ctx) => {
    const { store, keys, maxBytes } = open();
    const version = queryText(ctx, "version");
    if (!version) throw badRequest("version", "required: the release's version, e.g. ?version=1.4.0");
    if (!RELEASE_VERSION.test(version)) throw badRequest("version", `'${version}' is not a version like 1.4.0 or 1.4.0-rc.1`);
    // A header rather than a query parameter: base64's `+` and `/` need no URL encoding there.
    const given = ctx.get("x-tsmon-signature").trim() || undefined;
    if (!given && !keys.sign) {
      throw badRequest("x-tsmon-signature", "required: this server has no [updates] signing_key_file, so the upload must carry its own signature (docs/agent-update.md)");
    }
    if (store.get(version)) throw new TsmonError("ALREADY_EXISTS", `release ${version} is already stored; releases are immutable: upload a new version`);
    const bundle = await readBundle(ctx, maxBytes);
    const sha256 = createHash("sha256").update(bundle).digest("hex");
    let signature: string, signedBy: StoredRelease["signed_by"];
    if (given) {
      if (keys.publicKey && !verifyRelease(keys.publicKey, { version, sha256, size: bundle.length, signature: given })) {
        throw badRequest("x-tsmon-signature", "does not verify with this server's release public key for this version, size and sha256 (sign the text docs/agent-update.md shows)");
      }
      signature = given;
      signedBy = keys.publicKey ? "uploader-verified" : "uploader-unverified";
    } else {
      signature = keys.sign!(version, sha256, bundle.length);
      signedBy = "server";
    }
    const release: StoredRelease = { version, sha256, size: bundle.length, signature, signed_by: signedBy, uploaded_at: new Date().toISOString() };
    if (!store.add(release, bundle)) throw new TsmonError("ALREADY_EXISTS", `release ${version} is already stored; releases are immutable: upload a new version`);
    deps.log.info({ version, size: bundle.length, sha256, signedBy }, "agent release uploaded");
    ctx.status = 201;
    ctx.body = describe(release);
  });

  /**
   * @openapi
   * /v1/agent/releases/latest:
   *   get:
   *     summary: The newest agent release (by version), for agents checking for an update.
   *     description: With require_agent_auth, an agent's whitelist token or any user's credential; without it, open.
   *     tags: [agent-updates]
   *     security: [{ agentToken: [] }, { bearerAuth: [] }, {}]
   *     responses:
   *       200: { description: The release., content: { application/json: { schema: { $ref: '#/components/schemas/AgentRelease' } } } }
   *       401: { description: No valid agent token or credential (require_agent_auth)., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No release uploaded yet., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/agent/releases/latest", (ctx) => {
    const latest = open().store.latest();
    if (!latest) throw new TsmonError("NOT_FOUND", "no agent release on this server yet: upload one with POST /v1/agent/releases");
    const reply: ReleaseInfo = releaseInfo(latest);
    ctx.body = reply;
  });

  /**
   * @openapi
   * /v1/agent/releases/{version}/bundle.tar.gz:
   *   get:
   *     summary: One release's bundle.
   *     description: With require_agent_auth, an agent's whitelist token or any user's credential; without it, open.
   *     tags: [agent-updates]
   *     security: [{ agentToken: [] }, { bearerAuth: [] }, {}]
   *     parameters:
   *       - { name: version, in: path, required: true, schema: { type: string } }
   *     responses:
   *       200: { description: The bundle., content: { application/gzip: { schema: { type: string, format: binary } } } }
   *       401: { description: No valid agent token or credential (require_agent_auth)., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No such release., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/agent/releases/:version/bundle.tar.gz", (ctx) => {
    const { store } = open();
    const release = store.get(ctx.params.version!);
    if (!release) throw new TsmonError("NOT_FOUND", `no agent release '${ctx.params.version}' on this server (GET /v1/agent/releases lists them)`);
    ctx.type = "application/gzip";
    ctx.length = release.size;
    ctx.body = createReadStream(store.bundleFile(release.version));
  });

  return router;
}

function releaseInfo(r: StoredRelease): ReleaseInfo {
  return { version: r.version, sha256: r.sha256, size: r.size, signature: r.signature, url: `/v1/agent/releases/${r.version}/bundle.tar.gz` };
}

function describe(r: StoredRelease): ReleaseInfo & Pick<StoredRelease, "signed_by" | "uploaded_at"> {
  return { ...releaseInfo(r), signed_by: r.signed_by, uploaded_at: r.uploaded_at };
}

function queryText(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw badRequest(name, "given more than once");
  return value || undefined;
}

/** The raw body, refused past `maxBytes` (413, before reading when declared) and when it is not gzip. */
async function readBundle(ctx: Context, maxBytes: number): Promise<Buffer> {
  if (!ctx.is("application/gzip", "application/x-gzip", "application/octet-stream")) {
    throw new TsmonError("UNSUPPORTED_MEDIA_TYPE", "send the bundle as the raw body with 'content-type: application/gzip' (curl --data-binary @bundle.tar.gz)");
  }
  const tooLarge = () => {
    ctx.set("Connection", "close"); // the rest of the body is not read
    return new TsmonError("PAYLOAD_TOO_LARGE", `bundle larger than [updates] max_bundle_bytes (${maxBytes} bytes)`);
  };
  if (Number(ctx.get("content-length") || 0) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  const bundle = Buffer.concat(chunks);
  if (bundle.length === 0) throw badRequest("body", "empty: send the bundle (.tar.gz) as the body");
  if (!bundle.subarray(0, 2).equals(GZIP_MAGIC)) throw badRequest("body", "not gzip data: the bundle is a .tar.gz of the agent's bundle directory (npm run build:agent -- --pack)");
  return bundle;
}
