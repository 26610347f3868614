import { Router } from "@koa/router";
import { TsmonError } from "../../../common/errors.ts";
import { parseCheckInput } from "../../agent-config/check-input.ts";
import type { StoredCheck } from "../../agent-config/store.ts";
import { readJsonBody } from "../body.ts";
import type { HttpDeps } from "../context.ts";

/** A check table is a few hundred bytes; this leaves room for long expect_body patterns and nothing more. */
export const CHECK_BODY_LIMIT_BYTES = 64 * 1024;

/** A stored check as the API shows it: the table's fields, agent_pattern, and when it was written. */
function checkOut(c: StoredCheck): Record<string, unknown> {
  return { ...c.table, agent_pattern: c.agent_pattern, created_at: new Date(c.created_at).toISOString(), updated_at: new Date(c.updated_at).toISOString() };
}

export function checksRouter(deps: Pick<HttpDeps, "agentConfig" | "now">): Router {
  const router = new Router();
  const store = () => deps.agentConfig.store;
  const changed = () => deps.agentConfig.hub.changed();

  /**
   * @openapi
   * /v1/checks:
   *   get:
   *     summary: Server-managed checks, by name (agents whose id matches agent_pattern run them).
   *     tags: [checks]
   *     responses:
   *       200: { description: Checks., content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/ServerCheck' } } } } }
   *   post:
   *     summary: Add a check; validated with the agent's own schemas (400 names each field). Agents get it within seconds.
   *     tags: [checks]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/CheckInput' } } } }
   *     responses:
   *       201: { description: Created., content: { application/json: { schema: { $ref: '#/components/schemas/ServerCheck' } } } }
   *       400: { description: Invalid check - unknown type or field; reserved or malformed name; bad agent_pattern., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       409: { description: A check of this name exists., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       413: { description: Body larger than 64 KiB., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       429: { description: The server already holds 1000 checks., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/checks", (ctx) => {
    ctx.body = store().checks().map(checkOut);
  });
  router.post("/v1/checks", async (ctx) => {
    const input = parseCheckInput(await readJsonBody(ctx, CHECK_BODY_LIMIT_BYTES));
    const saved = await store().saveCheck(input, "create", deps.now());
    changed();
    ctx.status = 201;
    ctx.body = checkOut(saved);
  });

  /**
   * @openapi
   * /v1/checks/{id}:
   *   get:
   *     summary: One server-managed check (its id is its name).
   *     tags: [checks]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       200: { description: The check., content: { application/json: { schema: { $ref: '#/components/schemas/ServerCheck' } } } }
   *       404: { description: No such check., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *   put:
   *     summary: Replace a check (name in the body, if any, must equal the id).
   *     tags: [checks]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/CheckInput' } } } }
   *     responses:
   *       200: { description: Replaced., content: { application/json: { schema: { $ref: '#/components/schemas/ServerCheck' } } } }
   *       400: { description: Invalid check., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No such check (create it with POST)., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       413: { description: Body larger than 64 KiB., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *   delete:
   *     summary: Remove a check; agents stop probing it within seconds.
   *     tags: [checks]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       204: { description: Removed. }
   *       404: { description: No such check., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/checks/:id", (ctx) => {
    const check = store().check(ctx.params.id!);
    if (!check) throw new TsmonError("NOT_FOUND", `no check '${ctx.params.id}'`);
    ctx.body = checkOut(check);
  });
  router.put("/v1/checks/:id", async (ctx) => {
    const input = parseCheckInput(await readJsonBody(ctx, CHECK_BODY_LIMIT_BYTES), ctx.params.id!);
    const saved = await store().saveCheck(input, "replace", deps.now());
    changed();
    ctx.body = checkOut(saved);
  });
  router.delete("/v1/checks/:id", async (ctx) => {
    await store().removeCheck(ctx.params.id!);
    changed();
    ctx.status = 204;
  });

  return router;
}
