import test from "ava";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import type { CheckResult } from "../agent/checks/check.ts";
import { createCheck, validateCheckTables } from "../agent/checks/definitions.ts";
import { TestPki } from "./helpers/test-pki.ts";

const DAY_MS = 86_400_000;

async function probeOnce(table: Record<string, unknown>): Promise<CheckResult> {
  const { checks, problems } = validateCheckTables([{ name: "web", type: "http", ...table }]);
  if (problems.length) throw new Error(problems.join("; "));
  const def = checks[0]!;
  return createCheck(def).probe({ timeoutMs: def.timeout_ms, signal: AbortSignal.timeout(def.timeout_ms) });
}

/** /ok (a page), /status/N, /hops/N (N redirects, then /ok), /loop (redirects to itself forever). */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://x");
  const hops = /^\/hops\/(\d+)$/.exec(url.pathname);
  const status = /^\/status\/(\d+)$/.exec(url.pathname);
  if (url.pathname === "/ok") res.end("<h1>tsmon build 1.2.3 ready</h1>");
  else if (hops) res.writeHead(302, { location: Number(hops[1]) > 1 ? `/hops/${Number(hops[1]) - 1}` : "/ok" }).end();
  else if (url.pathname === "/loop") res.writeHead(301, { location: "/loop" }).end();
  else if (status) res.writeHead(Number(status[1])).end("status page");
  else res.writeHead(404).end();
}

async function listen(server: http.Server | https.Server): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

const pki = new TestPki();
test.after.always(() => pki.cleanup());

test("http: status, total time and its phases; body matched by substring and by /regex/", async (t) => {
  const server = await listen(http.createServer(handler));
  const url = `http://127.0.0.1:${server.port}/ok`;
  try {
    const ok = await probeOnce({ target: url, expect_body: "build 1.2.3" });
    t.true(ok.up, ok.reason?.message);
    t.is(ok.figures.http_status, 200);
    for (const phase of ["rtt_ms", "http_dns_ms", "http_connect_ms", "http_tls_ms", "http_first_byte_ms"] as const) {
      t.true(ok.figures[phase]! >= 0, `${phase} present`);
    }
    t.is(ok.figures.http_dns_ms, 0, "an IP address needs no lookup");
    t.is(ok.figures.http_tls_ms, 0, "plain http has no handshake");
    t.true(ok.figures.rtt_ms! >= ok.figures.http_first_byte_ms!);
    t.is(ok.figures.tls_days_left, undefined);
    t.true((await probeOnce({ target: url, expect_body: "/build \\d+\\.\\d+\\.\\d+ ready/" })).up);
    const missing = await probeOnce({ target: url, expect_body: "/build 2\\./" });
    t.is(missing.reason?.code, "expect");
    t.regex(missing.reason!.message, /body does not contain/);
  } finally {
    await server.close();
  }
});

test("http: a 500 is down by default; expect_status decides what is fine", async (t) => {
  const server = await listen(http.createServer(handler));
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const fail = await probeOnce({ target: `${base}/status/500` });
    t.false(fail.up);
    t.is(fail.figures.http_status, 500);
    t.is(fail.reason?.message, "status 500, expected 2xx");
    t.true((await probeOnce({ target: `${base}/status/503`, expect_status: [200, 503] })).up);
    t.false((await probeOnce({ target: `${base}/ok`, expect_status: 204 })).up);
  } finally {
    await server.close();
  }
});

test("http: redirects are followed up to max_redirects; a loop is cut there and says so", async (t) => {
  const server = await listen(http.createServer(handler));
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const three = await probeOnce({ target: `${base}/hops/3`, expect_body: "ready" });
    t.true(three.up);
    t.is(three.figures.http_status, 200);
    const loop = await probeOnce({ target: `${base}/loop` });
    t.false(loop.up);
    t.is(loop.figures.http_status, 301);
    t.regex(loop.reason!.message, /not followed: max_redirects = 5/);
    t.false((await probeOnce({ target: `${base}/hops/3`, max_redirects: 2 })).up);
    t.true((await probeOnce({ target: `${base}/hops/1`, max_redirects: 0, expect_status: 302 })).up, "0: the redirect itself is judged");
  } finally {
    await server.close();
  }
});

test("https: with the private CA trusted it is up, with its TLS time and the days its certificate has left", async (t) => {
  const leaf = pki.leaf("localhost", { sans: ["DNS:localhost", "IP:127.0.0.1"], notAfter: new Date(Date.now() + 30 * DAY_MS) });
  const server = await listen(https.createServer({ key: leaf.key, cert: leaf.cert + pki.intermediate.cert }, handler));
  const url = `https://127.0.0.1:${server.port}/ok`;
  try {
    const ok = await probeOnce({ type: "https", target: url, ca_file: pki.caFile });
    t.true(ok.up, ok.reason?.message);
    t.true(ok.figures.http_tls_ms! > 0);
    t.true(ok.figures.tls_days_left! > 29 && ok.figures.tls_days_left! <= 30, String(ok.figures.tls_days_left));
    const untrusted = await probeOnce({ type: "https", target: url });
    t.false(untrusted.up);
    t.is(untrusted.reason?.code, "tls");
  } finally {
    await server.close();
  }
});

test("http: a server that never answers is a timeout", async (t) => {
  const server = await listen(http.createServer(() => undefined));
  try {
    const result = await probeOnce({ target: `http://127.0.0.1:${server.port}/`, timeout_ms: 300 });
    t.is(result.reason?.code, "timeout");
    t.regex(result.reason!.message, /timeout_ms 300/);
  } finally {
    await server.close();
  }
});
