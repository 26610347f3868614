import test from "ava";
import { writeFileSync } from "node:fs";
import https from "node:https";
import { TEST_ADMIN } from "../scripts/lib/test-credentials.ts";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { startAgent } from "../agent/agent.ts";
import { buildAgentConfig } from "../agent/config.ts";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { startTestServer, until } from "./helpers/server.ts";
import { TestPki } from "./helpers/test-pki.ts";

/* [tls]: gRPC and HTTPS from cert/key files; clients trust the right CA, refuse another. */

const pki = new TestPki();
const other = new TestPki();
test.after.always(() => { pki.cleanup(); other.cleanup(); });

async function tlsServer(t: import("ava").ExecutionContext) {
  const leaf = pki.leaf("localhost", { sans: ["DNS:localhost", "IP:127.0.0.1"] });
  const certFile = path.join(pki.dir, "server-chain.pem"), keyFile = path.join(pki.dir, "server.key");
  writeFileSync(certFile, leaf.cert + pki.intermediate.cert);
  writeFileSync(keyFile, leaf.key);
  const server = await startTestServer({ tls: { enabled: true, cert_file: certFile, key_file: keyFile } });
  t.teardown(() => server.stop());
  return server;
}

function httpsRequest(port: number, pathname: string, ca: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", servername: "localhost", port, path: pathname, ca, agent: false, method: options.method ?? "GET", headers: options.headers }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on("error", reject);
    req.end(options.body);
  });
}

const httpsGet = (port: number, pathname: string, ca: string, headers?: Record<string, string>) => httpsRequest(port, pathname, ca, { headers });

/** The test admin's Authorization header, logged in over HTTPS. */
async function httpsAdmin(port: number, ca: string): Promise<Record<string, string>> {
  const res = await httpsRequest(port, "/v1/auth/login", ca, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(TEST_ADMIN) });
  return { authorization: `Bearer ${JSON.parse(res.body).token}` };
}

test("gRPC over TLS: the right CA reports, another CA fails the handshake", async (t) => {
  const server = await tlsServer(t);
  const good = new ProtoClient(server.grpc, grpc.credentials.createSsl(Buffer.from(pki.root.cert)), { "grpc.ssl_target_name_override": "localhost" });
  t.teardown(() => good.close());
  t.deepEqual(await good.report(makeBatch("tls-1", Date.now() - 1000, 2)), { success: true, message: "ok" });
  const bad = new ProtoClient(server.grpc, grpc.credentials.createSsl(Buffer.from(other.root.cert)), { "grpc.ssl_target_name_override": "localhost" });
  t.teardown(() => bad.close());
  const err = await t.throwsAsync(bad.report(makeBatch("tls-2", Date.now() - 1000, 2))) as grpc.ServiceError;
  t.is(err.code, grpc.status.UNAVAILABLE);
  const plain = new ProtoClient(server.grpc);
  t.teardown(() => plain.close());
  await t.throwsAsync(plain.report(makeBatch("tls-3", Date.now() - 1000, 2)), undefined, "plaintext is not accepted");
});

test("HTTPS with HSTS for the right CA; another CA is refused", async (t) => {
  const server = await tlsServer(t);
  const res = await httpsGet(server.httpPort, "/v1/health", pki.root.cert);
  t.is(res.status, 200);
  t.is(JSON.parse(res.body).status, "ok");
  t.is(res.headers["strict-transport-security"], "max-age=31536000");
  await t.throwsAsync(httpsGet(server.httpPort, "/v1/health", other.root.cert), { message: /certificate/i });
});

test("an agent with tls and ca_file reports over TLS", async (t) => {
  const server = await tlsServer(t);
  const config = buildAgentConfig({ agent_id: "tls-agent", tls: true, ca_file: pki.caFile }, { "server-url": `localhost:${server.grpcPort}`, interval: 0.5 });
  const agent = await startAgent(config, {
    memoryQueue: true,
    collectors: [{ name: "one", collect: (now) => [{ timestampMs: now, metric: "test.one", value: 1, labels: {} }] }],
    systemInfo: null, logger: pino({ level: "silent" }),
  });
  t.teardown(() => agent.stop());
  await until("a report over TLS", async () => (agent.stats().sent >= 1 ? true : undefined), 15_000);
  const latest = await httpsGet(server.httpPort, "/v1/agents/tls-agent/latest", pki.root.cert, await httpsAdmin(server.httpPort, pki.root.cert));
  t.is(latest.status, 200, latest.body);
  t.is(JSON.parse(latest.body)[0].metric_name, "test.one");
});
