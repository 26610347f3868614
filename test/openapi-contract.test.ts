import test from "ava";
import SwaggerParser from "@apidevtools/swagger-parser";
import { parse as parseYaml } from "yaml";
import type { HttpDeps } from "../server/http/context.ts";
import { registeredRoutes as routesOf } from "../server/http/access.ts";
import { httpRouters } from "../server/http/app.ts";
import { openApiSpec } from "../server/http/openapi/spec.ts";
import { getJson, startTestServer } from "./helpers/server.ts";

/** Every method + path the Koa app registers, in OpenAPI form (`:id` → `{id}`). */
function registeredRoutes(): string[] {
  // Routers only keep deps for their handlers; registering routes does not touch them.
  return [...new Set(routesOf(httpRouters({} as HttpDeps)).map((r) => r.replace(/:(\w+)/g, "{$1}")))].sort();
}

function documentedRoutes(): string[] {
  const routes: string[] = [];
  for (const [path, item] of Object.entries(openApiSpec().paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(item)) routes.push(`${method.toUpperCase()} ${path}`);
  }
  return routes.sort();
}

test("every registered route is documented and every documented route exists", (t) => {
  t.deepEqual(documentedRoutes(), registeredRoutes());
  t.true(registeredRoutes().length >= 12);
});

test("the OpenAPI document validates", async (t) => {
  const doc = structuredClone(openApiSpec());
  await t.notThrowsAsync(SwaggerParser.validate(doc as never));
  t.is(doc.openapi, "3.0.3");
});

test("the document is served as JSON and YAML, under /v1 and the /api/v1 alias; Swagger UI is served locally", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const json = await getJson(`${server.http}/v1/openapi.json`);
  t.is(json.status, 200);
  t.deepEqual(json.body, openApiSpec());
  const yamlRes = await fetch(`${server.http}/api/v1/openapi.yaml`);
  t.is(yamlRes.status, 200);
  t.regex(yamlRes.headers.get("content-type")!, /yaml/);
  t.deepEqual(parseYaml(await yamlRes.text()), openApiSpec());
  const page = await fetch(`${server.http}/docs`);
  t.regex(await page.text(), /swagger-ui-bundle\.js/);
  const bundle = await fetch(`${server.http}/docs/swagger-ui-bundle.js`);
  t.is(bundle.status, 200);
  t.true((await bundle.arrayBuffer()).byteLength > 100_000);
  t.is((await fetch(`${server.http}/docs/..%2Fpackage.json`)).status, 404);
});
