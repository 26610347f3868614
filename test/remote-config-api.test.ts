import test from "ava";
import { watchRemoteConfig, type WatchFailure } from "../agent/remote-config/watch.ts";
import { adminFetch, getJson, startTestServer, until, type TestServer } from "./helpers/server.ts";

/* The routes of server-managed checks and agent settings refuse bad input with a 4xx naming the field; the config watch refuses an agent a report would be refused. */

const send = (server: TestServer, method: string, p: string, body: unknown, headers: Record<string, string> = {}) =>
  adminFetch(`${server.http}${p}`, { method, headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

async function viewerToken(server: TestServer): Promise<string> {
  const res = await send(server, "POST", "/v1/auth/tokens", { name: "reader", role: "viewer" });
  return ((await res.json()) as { token: string }).token;
}

const VALID = { name: "db", type: "tcp", target: "10.0.0.1", port: 5432 };

test("checks API: create, read, replace, delete; every bad input a 4xx that names the problem", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const expectError = async (res: Response, status: number, message: RegExp) => {
    t.is(res.status, status, `${res.url}`);
    const body = await res.json() as { error: string; code: string };
    t.regex(body.error, message);
  };

  const created = await send(server, "POST", "/v1/checks", { ...VALID, agent_pattern: "db-*" });
  t.is(created.status, 201);
  t.like(await created.json(), { name: "db", type: "tcp", port: 5432, agent_pattern: "db-*" });
  await expectError(await send(server, "POST", "/v1/checks", VALID), 409, /a check named 'db' exists/);
  t.like((await getJson(`${server.http}/v1/checks/db`)).body, { name: "db", agent_pattern: "db-*" });
  t.deepEqual((await getJson(`${server.http}/v1/checks`)).body.map((c: any) => c.name), ["db"]);

  await expectError(await send(server, "POST", "/v1/checks", "{not json"), 400, /body: not valid JSON/);
  await expectError(await send(server, "POST", "/v1/checks", { ...VALID, name: "x", type: "gopher" }), 400, /^type: unknown check type/);
  await expectError(await send(server, "POST", "/v1/checks", { ...VALID, name: "x", port: "5432" }), 400, /^port: /);
  await expectError(await send(server, "POST", "/v1/checks", { ...VALID, name: "x", agent_pattern: "" }), 400, /^agent_pattern: expected a glob/);
  await expectError(await send(server, "POST", "/v1/checks", { ...VALID, name: "x/y" }), 400, /^name: use only letters/);
  await expectError(await send(server, "POST", "/v1/checks", { ...VALID, name: "mesh:web-1" }), 400, /^name: names starting with "mesh:" are reserved/);
  await expectError(await send(server, "POST", "/v1/checks", { ...VALID, name: "x", expect_body: "a".repeat(70 * 1024) }), 413, /larger|too large|limit/i);
  const notJson = await adminFetch(`${server.http}/v1/checks`, { method: "POST", headers: { "content-type": "text/plain" }, body: "name=db" });
  t.is(notJson.status, 415);

  await expectError(await send(server, "PUT", "/v1/checks/db", { ...VALID, name: "other" }), 400, /differs from the id in the path/);
  await expectError(await send(server, "PUT", "/v1/checks/nope", VALID), 400, /differs from the id/);
  await expectError(await send(server, "PUT", "/v1/checks/nope", { type: "tcp", target: "h", port: 1 }), 404, /no check 'nope'; create it with POST/);
  const replaced = await send(server, "PUT", "/v1/checks/db", { type: "tcp", target: "10.0.0.2", port: 5433 });
  t.is(replaced.status, 200);
  t.like(await replaced.json(), { name: "db", target: "10.0.0.2", agent_pattern: "*" });
  await expectError(await adminFetch(`${server.http}/v1/checks/nope`), 404, /no check 'nope'/);

  // Roles: anyone signed in reads, operators write.
  const viewer = { authorization: `Bearer ${await viewerToken(server)}` };
  t.is((await fetch(`${server.http}/v1/checks`, { headers: viewer })).status, 200);
  t.is((await fetch(`${server.http}/v1/agent-config`, { headers: viewer })).status, 200);
  t.is((await fetch(`${server.http}/v1/agents/x/config`, { headers: viewer })).status, 200);
  for (const [method, p] of [["POST", "/v1/checks"], ["PUT", "/v1/checks/db"], ["DELETE", "/v1/checks/db"], ["PUT", "/v1/agent-config/*"], ["DELETE", "/v1/agent-config/*"]] as const) {
    const asViewer = await fetch(`${server.http}${p}`, { method, headers: { ...viewer, "content-type": "application/json" }, body: method === "DELETE" ? undefined : JSON.stringify(VALID) });
    t.is(asViewer.status, 403, `${method} ${p} as viewer`);
    const anonymous = await fetch(`${server.http}${p}`, { method, headers: { "content-type": "application/json" }, body: method === "DELETE" ? undefined : JSON.stringify(VALID) });
    t.is(anonymous.status, 401, `${method} ${p} without credentials`);
  }
  t.is((await fetch(`${server.http}/v1/checks`)).status, 401);

  t.is((await adminFetch(`${server.http}/v1/checks/db`, { method: "DELETE" })).status, 204);
  await expectError(await adminFetch(`${server.http}/v1/checks/db`, { method: "DELETE" }), 404, /no check 'db'/);
});

test("agent-config API: settings by pattern, validated; the effective config of an agent merges them", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const expectError = async (res: Response, status: number, message: RegExp) => {
    t.is(res.status, status);
    t.regex(((await res.json()) as { error: string }).error, message);
  };
  t.is((await send(server, "PUT", "/v1/agent-config/*", { collection_interval_secs: 30, collectors: { gpu: false } })).status, 200);
  t.is((await send(server, "PUT", `/v1/agent-config/${encodeURIComponent("web-*")}`, { collection_interval_secs: 5 })).status, 200);
  t.deepEqual((await getJson(`${server.http}/v1/agent-config`)).body.map((s: any) => s.pattern).sort(), ["*", "web-*"]);
  await send(server, "POST", "/v1/checks", { ...VALID, agent_pattern: "web-*" });
  const web = (await getJson(`${server.http}/v1/agents/web-1/config`)).body;
  t.like(web, { agent_id: "web-1", collection_interval_secs: 5, collectors: { gpu: false } });
  t.deepEqual(web.checks.map((c: any) => c.name), ["db"]);
  t.like((await getJson(`${server.http}/v1/agents/db-1/config`)).body, { collection_interval_secs: 30, checks: [] });

  await expectError(await send(server, "PUT", "/v1/agent-config/*", { collection_interval_secs: 0 }), 400, /collection_interval_secs/);
  await expectError(await send(server, "PUT", "/v1/agent-config/*", { collectors: { CPU: false } }), 400, /collectors/);
  await expectError(await send(server, "PUT", "/v1/agent-config/*", { collectors: { cpu: "off" } }), 400, /collectors\.cpu/);
  await expectError(await send(server, "PUT", "/v1/agent-config/*", { colour: 1 }), 400, /colour/);
  await expectError(await send(server, "PUT", "/v1/agent-config/*", "[1,"), 400, /not valid JSON/);
  await expectError(await send(server, "PUT", `/v1/agent-config/${encodeURIComponent("a b")}`, {}), 400, /^pattern: expected a glob/);
  await expectError(await send(server, "PUT", "/v1/agent-config/*", { collectors: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`c${i}`, true])) }), 413, /.+/);
  await expectError(await adminFetch(`${server.http}/v1/agent-config/nope`, { method: "DELETE" }), 404, /no agent config for pattern 'nope'/);
  t.is((await adminFetch(`${server.http}/v1/agent-config/*`, { method: "DELETE" })).status, 204);
  t.deepEqual((await getJson(`${server.http}/v1/agents/db-1/config`)).body.collectors, {});
  t.is((await getJson(`${server.http}/v1/agents/${"x".repeat(300)}/config`)).status, 400);
});

async function watchOnce(server: TestServer, agentId: string, authToken?: string): Promise<{ kind: WatchFailure; message: string } | { config: unknown }> {
  let outcome: { kind: WatchFailure; message: string } | { config: unknown } | undefined;
  const watch = watchRemoteConfig({
    target: server.grpc, tls: false, agentId, authToken, knownVersion: () => "",
    onConfig: (config) => { outcome ??= { config }; }, onFailure: (kind, message) => { outcome ??= { kind, message }; },
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  }, {});
  try {
    return await until("the watch's first answer", async () => outcome);
  } finally {
    watch.close();
  }
}

test("WatchAgentConfig: with require_agent_auth, the agent's whitelist token is needed, as for reports", async (t) => {
  const server = await startTestServer({ require_agent_auth: true });
  t.teardown(() => server.stop());
  const whitelist = async (agent_id: string) => ((await (await send(server, "POST", "/v1/agents/whitelist", { agent_id })).json()) as { token: string }).token;
  const tokenA = await whitelist("agent-a");
  await whitelist("agent-b");
  const noToken = await watchOnce(server, "agent-a") as { kind: string; message: string };
  t.is(noToken.kind, "refused");
  t.regex(noToken.message, /requires agent authentication/);
  const wrong = await watchOnce(server, "agent-b", tokenA) as { kind: string; message: string };
  t.is(wrong.kind, "refused");
  t.regex(wrong.message, /does not belong to agent 'agent-b'/);
  const unknown = await watchOnce(server, "agent-a", "tsmon_nope") as { message: string };
  t.regex(unknown.message, /unknown agent token/);
  const bad = await watchOnce(server, "bad id") as { message: string };
  t.regex(bad.message, /agent_id: must be printable ASCII/);
  t.like(await watchOnce(server, "agent-a", tokenA), { config: { checks: [], collectors: {} } });
});
