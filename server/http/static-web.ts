import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { Context, Next } from "koa";

/** Where `npm run build:web` writes the dashboard. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL("../../web/dist", import.meta.url));

/** Paths the dashboard never answers: the API, its aliases, probes, docs and the live feed. */
const RESERVED = ["/v1", "/api", "/metrics", "/healthz", "/readyz", "/docs", "/ws"];

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2", ".json": "application/json",
};

interface StaticFile { body: Buffer; gzip: Buffer | undefined; type: string; etag: string }

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>tsmon</title>
<p>The dashboard is not built. Run <code>npm run build:web</code> (or <code>npm install</code>) and reload. The API is at <a href="/v1/openapi.json">/v1</a>, its documentation at <a href="/docs">/docs</a>.</p>`;

/** Reads every file of the built dashboard once; an absent build gives an empty map. */
function loadFiles(root: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true, recursive: true });
  } catch {
    return files;
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const body = readFileSync(full);
    const type = TYPES[path.extname(entry.name)] ?? "application/octet-stream";
    // Text compresses well and is what the dashboard is made of; gzip it once, not per request.
    const gzip = type.startsWith("text/") || type.endsWith("json") || type.endsWith("svg+xml") ? gzipSync(body, { level: 9 }) : undefined;
    const etag = `"${createHash("sha1").update(body).digest("base64url").slice(0, 16)}"`;
    files.set(`/${path.relative(root, full).split(path.sep).join("/")}`, { body, gzip, type, etag });
  }
  return files;
}

/** True for paths the single-page app routes itself (/, /agents/x, /alerts …), not files. */
function isAppRoute(p: string): boolean {
  if (RESERVED.some((r) => p === r || p.startsWith(`${r}/`) || p.startsWith(`${r}.`))) return false;
  return !path.posix.basename(p).includes(".");
}

/**
 * Serves the dashboard: hashed files under /assets as immutable, index.html (no-cache) for
 * every app route, gzip when the client takes it. Everything else falls through to the API.
 */
export function staticWeb(root = DEFAULT_WEB_ROOT) {
  const files = loadFiles(root);
  const index = files.get("/index.html");
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method !== "GET" && ctx.method !== "HEAD") return next();
    const asset = ctx.path.startsWith("/assets/") ? files.get(ctx.path) : undefined;
    if (asset) return send(ctx, asset, "public, max-age=31536000, immutable");
    if (!isAppRoute(ctx.path)) return next();
    if (!index) {
      ctx.status = 503;
      ctx.type = "text/html; charset=utf-8";
      ctx.body = NOT_BUILT;
      return;
    }
    return send(ctx, index, "no-cache");
  };
}

function send(ctx: Context, file: StaticFile, cacheControl: string): void {
  ctx.set("Cache-Control", cacheControl);
  ctx.set("ETag", file.etag);
  ctx.vary("Accept-Encoding");
  if (ctx.get("If-None-Match") === file.etag) {
    ctx.status = 304;
    return;
  }
  ctx.type = file.type;
  if (file.gzip && ctx.acceptsEncodings("gzip", "identity") === "gzip") {
    ctx.set("Content-Encoding", "gzip");
    ctx.body = file.gzip;
  } else {
    ctx.body = file.body;
  }
}
