import test from "ava";
import { status } from "@grpc/grpc-js";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { adminFetch, getJson, startTestServer, type TestServer } from "./helpers/server.ts";

let server: TestServer;
let client: ProtoClient;
const now = Date.now();

test.before(async () => {
  server = await startTestServer({ require_agent_auth: true });
  client = new ProtoClient(server.grpc);
});
test.after.always(async () => {
  client?.close();
  await server?.stop();
});

async function send(method: string, path: string, body?: unknown) {
  const res = await adminFetch(server.http + path, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: res.status === 204 ? null : await res.json() as any };
}

const stored = async (agent: string) => {
  const q = await getJson(`${server.http}/v1/metrics?agent=${agent}&metric=cpu.usage&from=${now - 3_600_000}&to=${now}`);
  return q.status === 404 ? [] : q.body.series.flatMap((s: any) => s.points.map((p: number[]) => p[0]));
};

test.serial("whitelist as the reference: add (token once), list with status, describe, 409 on a duplicate", async (t) => {
  const added = await send("POST", "/v1/agents/whitelist", { agent_id: "web-01", description: "Production web server" });
  t.is(added.status, 201);
  t.regex(added.body.token, /^[A-Za-z0-9_-]{43}$/);
  assertDocumented(t, "POST", "/v1/agents/whitelist", 201, added.body);
  t.is((await send("POST", "/v1/agents/whitelist", { agent_id: "web-01" })).status, 409);
  await send("POST", "/v1/agents/whitelist", { agent_id: "db-01" });

  const list = await getJson(`${server.http}/v1/agents/whitelist`);
  t.deepEqual(list.body.map((a: any) => [a.agent_id, a.status, a.last_seen]), [["db-01", "unknown", null], ["web-01", "unknown", null]]);
  t.false(JSON.stringify(list.body).includes(added.body.token), "tokens are never listed");
  assertDocumented(t, "GET", "/v1/agents/whitelist", 200, list.body);

  const described = await send("PUT", "/v1/agents/whitelist/web-01", { description: "migrated" });
  t.like(described.body, { agent_id: "web-01", description: "migrated" });
  t.is((await send("PUT", "/v1/agents/whitelist/nobody", { description: "x" })).status, 404);
  for (const [body, field] of [[{ agent_id: "" }, "agent_id"], [{ agent_id: "has space" }, "agent_id"], [{ agent_id: "x", token: "mine" }, "\\(top level\\)"], [{}, "agent_id"]] as const) {
    const res = await send("POST", "/v1/agents/whitelist", body);
    t.is(res.status, 400, JSON.stringify(body));
    t.regex(res.body.error, new RegExp(`^${field}: `));
  }
});

test.serial("gRPC with require_agent_auth: only the agent's own current token is accepted; nothing else is stored", async (t) => {
  const web = (await send("POST", "/v1/agents/whitelist/web-01/token")).body.token as string;
  const db = (await send("POST", "/v1/agents/whitelist/db-01/token")).body.token as string;
  const ok = makeBatch("web-01", now - 60_000, 2);
  t.deepEqual(await client.report(ok, web), { success: true, message: "ok" });

  const refused: [string, string | undefined, number, RegExp][] = [
    ["no token", undefined, status.UNAUTHENTICATED, /requires agent authentication/],
    ["unknown token", "not-a-token", status.UNAUTHENTICATED, /unknown agent token/],
    ["another agent's token", db, status.PERMISSION_DENIED, /does not belong to agent 'web-01'/],
  ];
  for (const [name, token, code, message] of refused) {
    const err = await t.throwsAsync(client.report(makeBatch("web-01", now - 50_000, 2), token), undefined, name) as any;
    t.is(err.code, code, name);
    t.regex(err.details, message, name);
  }
  const regenerated = await send("POST", "/v1/agents/whitelist/web-01/token");
  assertDocumented(t, "POST", "/v1/agents/whitelist/{agent_id}/token", 200, regenerated.body);
  const old = await t.throwsAsync(client.report(makeBatch("web-01", now - 40_000, 2), web)) as any;
  t.is(old.code, status.UNAUTHENTICATED, "the old token stopped working at once");
  await client.report(makeBatch("web-01", now - 30_000, 2), regenerated.body.token);
  const unlisted = await t.throwsAsync(client.report(makeBatch("ghost", now - 30_000, 2), regenerated.body.token)) as any;
  t.is(unlisted.code, status.PERMISSION_DENIED);

  t.deepEqual(await stored("web-01"), [now - 60_000, now - 30_000], "only the accepted batches are stored");
  t.deepEqual(await stored("ghost"), []);
  const list = await getJson(`${server.http}/v1/agents/whitelist`);
  t.is(list.body.find((a: any) => a.agent_id === "web-01").status, "active");
});

test.serial("POST /v1/report checks the same token; a removed agent's token stops working", async (t) => {
  const token = (await send("POST", "/v1/agents/whitelist/db-01/token")).body.token as string;
  const report = (auth?: string) => fetch(`${server.http}/v1/report`, {
    method: "POST", headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
    body: JSON.stringify({ agent_id: "db-01", data_points: [{ metric_name: "cpu.usage", value: 1, timestamp_ms: now - 20_000 }] }),
  });
  t.is((await report()).status, 401);
  t.is((await report("wrong")).status, 401);
  t.is((await report(token)).status, 200);
  t.is((await send("DELETE", "/v1/agents/whitelist/db-01")).status, 204);
  t.is((await send("DELETE", "/v1/agents/whitelist/db-01")).status, 404);
  t.is((await report(token)).status, 401);
  t.deepEqual(await stored("db-01"), [now - 20_000]);
});
