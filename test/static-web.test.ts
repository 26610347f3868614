import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import Koa from "koa";
import { staticWeb } from "../server/http/static-web.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { ensureWebBuilt } from "./helpers/web-build.ts";

/*
 * The dashboard's files as the real server serves them: index.html (no-cache) for the app's
 * routes, hashed assets immutable and gzipped, and nothing of the API shadowed.
 */
let server: TestServer;
test.before(async () => {
  await ensureWebBuilt();
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

/** A raw GET (no automatic decompression), so headers show what went over the wire. */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on("error", reject);
  });
}

test("/ and every app route answer index.html, not cached, under the CSP", async (t) => {
  for (const p of ["/", "/agents/web-1", "/agents/a%2Fb", "/alerts", "/settings", "/network", "/reports"]) {
    const res = await rawGet(`${server.http}${p}`);
    t.is(res.status, 200, p);
    t.regex(String(res.headers["content-type"]), /^text\/html/, p);
    t.is(res.headers["cache-control"], "no-cache", p);
    t.regex(String(res.headers["content-security-policy"]), /default-src 'self'/, p);
    t.regex(res.body.toString(), /<div id="app"><\/div>/, p);
  }
});

test("hashed assets are immutable, gzipped when asked, and revalidate by ETag", async (t) => {
  const index = (await rawGet(`${server.http}/`)).body.toString();
  const js = index.match(/src="(\/assets\/app-[A-Z0-9]+\.js)"/)?.[1];
  const css = index.match(/href="(\/assets\/app-[A-Z0-9]+\.css)"/)?.[1];
  t.truthy(js, "index.html names the hashed script");
  t.truthy(css, "index.html names the hashed stylesheet");
  const plain = await rawGet(`${server.http}${js}`);
  t.is(plain.status, 200);
  t.regex(String(plain.headers["content-type"]), /^text\/javascript/);
  t.is(plain.headers["cache-control"], "public, max-age=31536000, immutable");
  t.is(plain.headers["content-encoding"], undefined);
  const zipped = await rawGet(`${server.http}${js}`, { "accept-encoding": "gzip, br" });
  t.is(zipped.headers["content-encoding"], "gzip");
  t.true(zipped.body.length < plain.body.length / 2);
  const again = await rawGet(`${server.http}${css}`, { "if-none-match": String(plain.headers.etag) });
  t.is(again.status, 200, "another file's ETag does not match");
  const cssRes = await rawGet(`${server.http}${css}`);
  const revalidated = await rawGet(`${server.http}${css}`, { "if-none-match": String(cssRes.headers.etag) });
  t.is(revalidated.status, 304);
});

test("the API, probes, docs and metrics are never shadowed; unknown files are 404, not the app", async (t) => {
  const notHtml = async (p: string, status: number) => {
    const res = await rawGet(`${server.http}${p}`);
    t.is(res.status, status, p);
    t.notRegex(res.body.toString(), /<div id="app">/, p);
  };
  await notHtml("/v1/health", 200);
  await notHtml("/v1/no-such-route", 401);
  await notHtml("/v1", 401);
  await notHtml("/api/v1/alerts", 401);
  await notHtml("/metrics", 401);
  await notHtml("/healthz", 200);
  await notHtml("/readyz", 200);
  await notHtml("/ws", 404);
  await notHtml("/assets/app-NOSUCHHASH.js", 404);
  await notHtml("/favicon.ico", 404);
  const docs = await rawGet(`${server.http}/docs`);
  t.is(docs.status, 200);
  t.notRegex(docs.body.toString(), /<div id="app">/);
  const post = await fetch(`${server.http}/`, { method: "POST" });
  t.not(post.status, 200, "only GET and HEAD are served");
  await post.arrayBuffer();
  const head = await fetch(`${server.http}/alerts`, { method: "HEAD" });
  t.is(head.status, 200);
});

test("without a build, / says how to build the dashboard (503), and the API still answers", async (t) => {
  const empty = mkdtempSync(path.join(tmpdir(), "tsmon-web-"));
  const app = new Koa();
  app.use(staticWeb(empty));
  app.use((ctx) => {
    ctx.body = { api: true };
  });
  const listener = app.listen(0, "127.0.0.1");
  await new Promise((r) => listener.once("listening", r));
  const base = `http://127.0.0.1:${(listener.address() as { port: number }).port}`;
  try {
    const res = await rawGet(`${base}/`);
    t.is(res.status, 503);
    t.regex(res.body.toString(), /npm run build:web/);
    t.deepEqual(JSON.parse((await rawGet(`${base}/v1/health`)).body.toString()), { api: true });
  } finally {
    listener.close();
    rmSync(empty, { recursive: true, force: true });
  }
});
