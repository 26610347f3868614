import { Router } from "@koa/router";
import { agentIdProblem } from "../../ingest/validate.ts";
import type { WhitelistEntry } from "../../storage/whitelist-store.ts";
import { readJsonBody } from "../body.ts";
import { parseBody } from "../parse-body.ts";
import type { HttpDeps } from "../context.ts";
import { badRequest } from "../errors.ts";
import { WhitelistAdd, WhitelistUpdate } from "../openapi/schemas.ts";

export function whitelistRouter(deps: Pick<HttpDeps, "config" | "control" | "now">): Router {
  const router = new Router();
  const whitelist = () => deps.control.whitelist;

  const listed = (e: WhitelistEntry) => {
    const seen = deps.control.getAgent(e.agent_id)?.last_seen;
    const active = seen !== undefined && deps.now() - seen <= deps.config.agent_active_secs * 1000;
    return {
      agent_id: e.agent_id, description: e.description, created_at: new Date(e.created_at).toISOString(),
      last_seen: seen === undefined ? null : new Date(seen).toISOString(),
      status: seen === undefined ? "unknown" : active ? "active" : "inactive",
    };
  };

  /**
   * @openapi
   * /v1/agents/whitelist:
   *   get:
   *     summary: Whitelisted agents with their status (tokens are never listed).
   *     tags: [agents]
   *     responses:
   *       200: { description: Agents., content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/WhitelistedAgent' } } } } }
   *   post:
   *     summary: Whitelist an agent; its token is returned this once.
   *     tags: [agents]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/WhitelistAdd' } } } }
   *     responses:
   *       201: { description: Added; keep the token., content: { application/json: { schema: { $ref: '#/components/schemas/WhitelistToken' } } } }
   *       400: { description: Invalid agent_id or description., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       409: { description: The agent is already whitelisted., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/agents/whitelist", (ctx) => {
    ctx.body = whitelist().list().map(listed);
  });
  router.post("/v1/agents/whitelist", async (ctx) => {
    const body = parseBody(WhitelistAdd, await readJsonBody(ctx, deps.config.http.body_limit_bytes));
    const problem = agentIdProblem(body.agent_id);
    if (problem) throw badRequest("agent_id", problem);
    const { entry, token } = await whitelist().add(body.agent_id, body.description);
    ctx.status = 201;
    ctx.body = { agent_id: entry.agent_id, token, created_at: new Date(entry.created_at).toISOString() };
  });

  /**
   * @openapi
   * /v1/agents/whitelist/{agent_id}:
   *   put:
   *     summary: Update a whitelisted agent's description.
   *     tags: [agents]
   *     parameters: [{ name: agent_id, in: path, required: true, schema: { type: string } }]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/WhitelistUpdate' } } } }
   *     responses:
   *       200: { description: Updated., content: { application/json: { schema: { $ref: '#/components/schemas/WhitelistedAgent' } } } }
   *       400: { description: Invalid body., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: Not whitelisted., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *   delete:
   *     summary: Remove an agent from the whitelist (its token stops working at once).
   *     tags: [agents]
   *     parameters: [{ name: agent_id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       204: { description: Removed. }
   *       404: { description: Not whitelisted., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.put("/v1/agents/whitelist/:agent_id", async (ctx) => {
    const body = parseBody(WhitelistUpdate, await readJsonBody(ctx, deps.config.http.body_limit_bytes));
    ctx.body = listed(await whitelist().describe(ctx.params.agent_id!, body.description));
  });
  router.delete("/v1/agents/whitelist/:agent_id", async (ctx) => {
    await whitelist().remove(ctx.params.agent_id!);
    ctx.status = 204;
  });

  /**
   * @openapi
   * /v1/agents/whitelist/{agent_id}/token:
   *   post:
   *     summary: Regenerate an agent's token; the old one stops working at once.
   *     tags: [agents]
   *     parameters: [{ name: agent_id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       200: { description: "The new token, shown this once.", content: { application/json: { schema: { $ref: '#/components/schemas/WhitelistToken' } } } }
   *       404: { description: Not whitelisted., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/v1/agents/whitelist/:agent_id/token", async (ctx) => {
    const agentId = ctx.params.agent_id!;
    ctx.body = { agent_id: agentId, token: await whitelist().regenerate(agentId) };
  });

  return router;
}
