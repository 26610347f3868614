import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import type { ExecutionContext } from "ava";
import { openApiSpec } from "../../server/http/openapi/spec.ts";

const spec = openApiSpec();
const ajv = new Ajv({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv) => void)(ajv);
ajv.addSchema(toAjv(structuredClone(spec)), "spec");

/** OpenAPI 3.0's `nullable` beside `allOf`/`$ref` (no `type`) becomes `anyOf [..., null]` for Ajv. */
function toAjv(node: any): any {
  if (Array.isArray(node)) return node.map(toAjv);
  if (node === null || typeof node !== "object") return node;
  const out: any = {};
  for (const [k, v] of Object.entries(node)) out[k] = toAjv(v);
  if (out.nullable === true && out.type === undefined) {
    delete out.nullable;
    return { anyOf: [out, { type: "null" }] };
  }
  return out;
}

const pointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * Asserts that a response matches what the OpenAPI document says `method template`
 * answers with that status (template as documented, e.g. `/v1/agents/{id}/latest`).
 */
export function assertDocumented(t: ExecutionContext, method: string, template: string, status: number, body: unknown): void {
  const op = spec.paths?.[template]?.[method.toLowerCase()];
  if (!op) return void t.fail(`${method} ${template} is not documented`);
  const response = op.responses?.[String(status)];
  if (!response) return void t.fail(`${method} ${template} does not document status ${status}`);
  const media = response.content?.["application/json"];
  if (!media) return;
  const ref = `spec#/paths/${pointer(template)}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
  const validate = ajv.compile({ $ref: ref });
  t.true(validate(body), `${method} ${template} ${status} does not match its schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
}
