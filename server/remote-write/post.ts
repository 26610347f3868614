import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { classifyStatus, retryAfterMs, type Outcome } from "./backoff.ts";
import type { RemoteWriteConfig } from "./config-schema.ts";
import { REMOTE_WRITE_HEADERS } from "./write-request.ts";

/** Sends one compressed WriteRequest; says whether it was taken, may be retried, or never will be. */
export type PostRequest = (body: Buffer, signal?: AbortSignal) => Promise<Outcome & { retryAfterMs?: number | undefined }>;

/**
 * A POST to one receiver with its auth and TLS settings (node:https, because fetch cannot
 * take a private CA or a client certificate without another library). The TLS files were
 * checked at start-up (config/preflight.ts) and are read once here.
 */
export function httpPoster(rw: RemoteWriteConfig): { post: PostRequest; close(): void } {
  const url = new URL(rw.url);
  const secure = url.protocol === "https:";
  const headers: Record<string, string> = { ...REMOTE_WRITE_HEADERS, "user-agent": "tsmon-remote-write" };
  if (rw.bearer_token) headers.authorization = `Bearer ${rw.bearer_token}`;
  if (rw.basic_auth) headers.authorization = `Basic ${Buffer.from(`${rw.basic_auth.username}:${rw.basic_auth.password}`).toString("base64")}`;
  const agent = secure
    ? new https.Agent({
      keepAlive: true,
      ca: rw.tls.ca_file ? readFileSync(rw.tls.ca_file) : undefined,
      cert: rw.tls.cert_file ? readFileSync(rw.tls.cert_file) : undefined,
      key: rw.tls.key_file ? readFileSync(rw.tls.key_file) : undefined,
      rejectUnauthorized: !rw.tls.insecure_skip_verify,
    })
    : new http.Agent({ keepAlive: true });
  const request = secure ? https.request : http.request;
  const timeoutMs = rw.timeout_secs * 1000;

  const post: PostRequest = (body, signal) => new Promise((resolve) => {
    const req = request(url, { method: "POST", agent, signal, headers: { ...headers, "content-length": String(body.length) }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        // Only the start of an error body is logged; the rest is read and discarded.
        if (size < 4096) chunks.push(chunk);
        size += chunk.length;
      });
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8").trim();
        const outcome = classifyStatus(res.statusCode ?? 0, text);
        resolve({ ...outcome, retryAfterMs: retryAfterMs(res.headers["retry-after"], Date.now(), 60 * 60_000) });
      });
      res.on("error", (err) => resolve({ type: "retry", reason: "network", detail: `reading the answer failed: ${err.message}` }));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within timeout_secs (${rw.timeout_secs} s)`), { code: "TIMEOUT" })));
    req.on("error", (err: NodeJS.ErrnoException) => resolve({
      type: "retry", reason: err.code === "TIMEOUT" ? "timeout" : "network", detail: `${err.code ?? "error"}: ${err.message}`,
    }));
    req.end(body);
  });
  return { post, close: () => agent.destroy() };
}
