import http from "node:http";
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { openApiSpec } from "../server/http/openapi/spec.ts";
import { adminHeaders, getJson, startTestServer, until } from "./helpers/server.ts";
import { makeBatch, ProtoClient } from "./helpers/proto-client.ts";

/*
 * Every route of the OpenAPI document and the report RPC, fed what a careless user or an
 * attacker sends: over-long ids, numbers past what a date holds, wrong types, null and deep
 * bodies. None may answer 5xx (a server error the caller can trigger), every refusal comes in
 * the error shape, and nothing stored is lost.
 */

type Schema = { $ref?: string; properties?: Record<string, Schema>; allOf?: Schema[]; oneOf?: Schema[]; anyOf?: Schema[] };
const spec = openApiSpec() as { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, Schema>; parameters?: Record<string, any> } };

const LONG = "a".repeat(5_000);
const DEEP = "[".repeat(5_000) + "]".repeat(5_000);
const PATH_VALUES = [LONG, "%00", "..", "%F0%9F%92%A5".repeat(300), "fuzz-agent"];
const QUERY_VALUES = [LONG, "9000000000000000", "-1", "1e400", "NaN", "", "%00", "0"];
const FIELD_VALUES: unknown[] = [LONG, -1e308, 1e308, null, [], {}, true, "", -1, 2 ** 53 + 1, { a: { b: { c: [LONG] } } }];

function resolve(schema: Schema | undefined): Schema {
  if (!schema) return {};
  if (schema.$ref) return resolve(spec.components.schemas[schema.$ref.split("/").pop()!]);
  return schema;
}

/** Property names a body schema names (through $ref, allOf, oneOf, anyOf). */
function propertiesOf(schema: Schema | undefined, seen = new Set<Schema>()): string[] {
  const s = resolve(schema);
  if (seen.has(s)) return [];
  seen.add(s);
  const own = Object.keys(s.properties ?? {});
  const nested = [...(s.allOf ?? []), ...(s.oneOf ?? []), ...(s.anyOf ?? [])].flatMap((x) => propertiesOf(x, seen));
  return [...new Set([...own, ...nested])];
}

function bodiesFor(op: any): string[] {
  const props = propertiesOf(op.requestBody?.content?.["application/json"]?.schema);
  const bodies = ["null", "[]", '"x"', "1e308", "{}", DEEP, "{", JSON.stringify({ [LONG]: 1 })];
  for (const p of props) for (const v of FIELD_VALUES) bodies.push(JSON.stringify({ [p]: v }));
  // Every field at once with a long string: passes no schema, must still be a 4xx.
  bodies.push(JSON.stringify(Object.fromEntries(props.map((p) => [p, LONG]))));
  return bodies;
}

function queryNames(op: any): string[] {
  return (op.parameters ?? []).map((p: any) => (p.$ref ? spec.components.parameters![p.$ref.split("/").pop()!] : p))
    .filter((p: any) => p.in === "query").map((p: any) => p.name as string);
}

/** Requests that would end the fuzzing session itself (log out / change the admin's password) or take minutes. */
const SKIP = new Set(["GET /v1/live", "POST /v1/certs/check"]);

function send(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string; allow?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method, headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) }, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, text, allow: res.headers.allow }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("no route of the OpenAPI document answers 5xx to malformed input, and nothing stored is lost", async (t) => {
  const server = await startTestServer({ http: { rate_limit_per_minute: 1_000_000 } });
  t.teardown(() => server.stop());
  const client = new ProtoClient(server.grpc);
  t.teardown(() => client.close());
  const now = Date.now();
  await client.report(makeBatch("fuzz-agent", now - 2_000));
  await client.report(makeBatch("fuzz-agent", now - 1_000));
  const admin = await adminHeaders(server.http);
  const query = `/v1/metrics?agent=fuzz-agent&metric=cpu.usage&from=${now - 60_000}&to=${now + 60_000}`;
  const before = await until("the agent's points", async () => {
    const r = await getJson(server.http + query, admin);
    return r.status === 200 && r.body.series?.[0]?.points.length === 2 ? r.body : undefined;
  });

  const failures: string[] = [];
  let requests = 0;
  const check = async (method: string, path: string, body?: string) => {
    requests++;
    const res = await send(server.http, method, path, admin, body);
    const shown = `${method} ${path.slice(0, 80)}${body !== undefined ? ` body ${body.slice(0, 60)}` : ""}`;
    if (res.status >= 500) failures.push(`${res.status} ${shown}: ${res.text.slice(0, 200)}`);
    else if (res.status >= 400) {
      const parsed = (() => { try { return JSON.parse(res.text) as { error?: unknown; code?: unknown }; } catch { return undefined; } })();
      if (typeof parsed?.error !== "string" || typeof parsed.code !== "string") failures.push(`${res.status} without the error shape: ${shown}: ${res.text.slice(0, 120)}`);
    }
  };

  for (const [template, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op?.responses || SKIP.has(`${method.toUpperCase()} ${template}`)) continue;
      const M = method.toUpperCase();
      const params = template.match(/\{[^}]+\}/g) ?? [];
      const paths = params.length ? PATH_VALUES.map((v) => params.reduce((p, name) => p.replace(name, v), template)) : [template];
      for (const p of paths) await check(M, p);
      for (const name of queryNames(op)) {
        const others = queryNames(op).filter((n) => n !== name).map((n) => `${n}=${n === "agent" ? "fuzz-agent" : n === "metric" ? "cpu.usage" : n === "from" ? now - 60_000 : n === "to" ? now : "1"}`);
        for (const v of QUERY_VALUES) await check(M, `${paths.at(-1)}?${[...others, `${name}=${encodeURIComponent(v)}`].join("&")}`);
        await check(M, `${paths.at(-1)}?${name}=1&${name}=2`);
      }
      if (op.requestBody) for (const b of bodiesFor(op)) await check(M, paths.at(-1)!, b);
      // A method the route does not have: 405 with Allow, never 501 or 5xx.
      const res = await send(server.http, "TRACE", paths.at(-1)!, admin);
      if (res.status !== 405 || !res.allow) failures.push(`TRACE ${template}: ${res.status} allow=${res.allow}`);
    }
  }
  t.true(requests > 1_000, `${requests} requests made`);
  t.deepEqual(failures, []);
  t.is((await getJson(`${server.http}/v1/health`)).status, 200, "the server still answers");
  t.deepEqual((await getJson(server.http + query, admin)).body, before, "the stored points are all still there");
});

test("the report RPC answers malformed reports with a client status, never INTERNAL or UNAVAILABLE", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const client = new ProtoClient(server.grpc);
  t.teardown(() => client.close());
  const now = Date.now();
  const point = (over: object) => ({ ...makeBatch("fuzz-agent", now, 1).data_points[0]!, ...over });
  const cases: [string, Parameters<ProtoClient["report"]>[0]][] = [
    ["agent_id of 5,000 characters", { ...makeBatch(LONG, now), agent_id: LONG }],
    ["agent_id of 4,093 characters", makeBatch("b".repeat(4_093), now)],
    ["empty agent_id", makeBatch("", now)],
    ["agent_id with a space", makeBatch("a b", now)],
    ["metric name of 5,000 characters", { agent_id: "fuzz-agent", timestamp_ms: now, data_points: [point({ metric_name: LONG })] }],
    ["label value of 5,000 characters", { agent_id: "fuzz-agent", timestamp_ms: now, data_points: [point({ labels: { k: LONG } })] }],
    ["label key of 5,000 characters", { agent_id: "fuzz-agent", timestamp_ms: now, data_points: [point({ labels: { [LONG]: "v" } })] }],
    ["timestamp past a Date", { agent_id: "fuzz-agent", timestamp_ms: 9e15, data_points: [point({ timestamp_ms: 9e15 })] }],
    ["NaN value", { agent_id: "fuzz-agent", timestamp_ms: now, data_points: [point({ value: Number.NaN })] }],
    ["no points", { agent_id: "fuzz-agent", timestamp_ms: now, data_points: [] }],
    ["20,000 points", { agent_id: "fuzz-agent", timestamp_ms: now, data_points: Array.from({ length: 20_000 }, (_, i) => point({ metric_name: `m${i}` })) }],
  ];
  const refused = new Set([grpc.status.INTERNAL, grpc.status.UNAVAILABLE, grpc.status.UNKNOWN, grpc.status.DEADLINE_EXCEEDED]);
  for (const [what, batch] of cases) {
    const err = await client.report(batch).then(() => null, (e: grpc.ServiceError) => e);
    t.truthy(err, `${what}: refused`);
    if (err) t.false(refused.has(err.code), `${what}: ${grpc.status[err.code]} ${err.details}`);
  }
  for (const bytes of [Buffer.from([0xff, 0xff, 0xff]), Buffer.alloc(64, 0x0a), Buffer.from("not protobuf at all")]) {
    const err = await ProtoClient.rawCall(server.grpc, bytes);
    t.truthy(err);
    if (err) t.false(refused.has(err.code), `raw ${bytes.toString("hex").slice(0, 20)}: ${grpc.status[err.code]} ${err.details}`);
  }
  t.like(await client.report(makeBatch("fuzz-agent", now)), { success: true }, "a good report is still stored after all that");
});
