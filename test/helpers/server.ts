import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildServerConfig, type ServerConfig } from "../../server/config/load.ts";
import type { ServerConfigInput } from "../../server/config/schema.ts";
import { createLogger } from "../../server/log.ts";
import { startServer, type RunningServer, type StartOptions } from "../../server/server.ts";
import { adminFetch, adminHeaders, testAuthConfig } from "../../scripts/lib/test-credentials.ts";

export { adminFetch, adminHeaders } from "../../scripts/lib/test-credentials.ts";

export interface TestServer extends RunningServer {
  config: ServerConfig;
  dataDir: string;
  http: string;
  grpc: string;
  fatal: string[];
  /** Stops the server and deletes its data dir. */
  stop(): Promise<void>;
}

/** A real server on ephemeral loopback ports with its own temporary data dir. */
export async function startTestServer(
  overrides: Partial<ServerConfigInput> = {}, dataDir?: string, options: Omit<StartOptions, "log" | "onFatal"> = {},
): Promise<TestServer> {
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), "tsmon-test-"));
  const config = buildServerConfig({
    grpc_port: 0, http_port: 0, bind_address: "127.0.0.1", data_dir: dir, log_level: "silent",
    actors: { ingest_threads: 1 },
    auth: testAuthConfig,
    ...overrides,
  });
  const fatal: string[] = [];
  const server = await startServer(config, { ...options, log: createLogger("silent"), onFatal: (r) => fatal.push(r) });
  // Bound to one address (a test network's, say), the server answers there only.
  const host = ["0.0.0.0", "::"].includes(config.bind_address) ? "127.0.0.1" : config.bind_address;
  return {
    ...server, config, dataDir: dir, fatal,
    http: `http://${host}:${server.httpPort}`,
    grpc: `${host}:${server.grpcPort}`,
    async stop() {
      await server.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** GET as the test admin (pass other headers, or `{}` for none, to be someone else). */
export async function getJson(url: string, headers?: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = headers ? await fetch(url, { headers }) : await adminFetch(url);
  return { status: res.status, body: await res.json() };
}

/** GET as the test admin over a new connection each time, so PM2's balancer spreads requests over instances. */
export async function freshGet(url: string): Promise<{ status: number; body: any }> {
  const headers = await adminHeaders(url);
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false, headers }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    }).on("error", reject);
  });
}

/**
 * Polls `probe` until it returns a value (not undefined), failing after `timeoutMs` with
 * what `explain` says about the state then (a timeout on CI must say what it saw).
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, explain?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const value = await probe().catch((err) => { lastError = err; return undefined; });
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const seen = explain ? await explain().catch((err) => `(explain failed: ${err})`) : "";
      throw new Error(`timed out waiting for ${what}${lastError ? `; last probe error: ${lastError}` : ""}${seen ? `; ${seen}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The first of `answers` to settle, or a string saying none did within `timeoutMs`: for a
 * test whose point is which answer comes first, however long a loaded machine takes.
 */
export async function firstAnswer<T>(answers: readonly Promise<T>[], timeoutMs = 60_000): Promise<T | string> {
  let timer: NodeJS.Timeout | undefined;
  const none = new Promise<string>((resolve) => (timer = setTimeout(resolve, timeoutMs, `nothing answered in ${timeoutMs / 1000} s`)));
  try {
    return await Promise.race([...answers, none]);
  } finally {
    clearTimeout(timer);
  }
}
