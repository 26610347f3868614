import { Router } from "@koa/router";
import { parsePattern } from "../../agent-config/check-input.ts";
import type { AgentSettings } from "../../agent-config/store.ts";
import { agentIdProblem } from "../../ingest/validate.ts";
import { readJsonBody } from "../body.ts";
import type { HttpDeps } from "../context.ts";
import { badRequest } from "../errors.ts";
import { AgentSettingsInput } from "../openapi/check-schemas.ts";
import { parseBody } from "../parse-body.ts";

const SETTINGS_BODY_LIMIT_BYTES = 16 * 1024;

function settingsOut(s: AgentSettings): Record<string, unknown> {
  return { ...s, updated_at: new Date(s.updated_at).toISOString() };
}

export function agentConfigRouter(deps: Pick<HttpDeps, "agentConfig" | "now">): Router {
  const router = new Router();
  const store = () => deps.agentConfig.store;

  /**
   * @openapi
   * /v1/agent-config:
   *   get:
   *     summary: Collection settings by agent pattern (interval, collector switches), sent to matching agents with their checks.
   *     tags: [checks]
   *     responses:
   *       200: { description: Settings., content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/AgentSettingsOut' } } } } }
   * /v1/agent-config/{pattern}:
   *   put:
   *     summary: Set the collection settings of the agents matching a glob (URL-encode it, e.g. web-%2A); a longer pattern wins a field both set.
   *     tags: [checks]
   *     parameters: [{ name: pattern, in: path, required: true, schema: { type: string } }]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/AgentSettingsInput' } } } }
   *     responses:
   *       200: { description: Stored., content: { application/json: { schema: { $ref: '#/components/schemas/AgentSettingsOut' } } } }
   *       400: { description: Invalid pattern or field., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       413: { description: Body larger than 16 KiB., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *   delete:
   *     summary: Remove the settings of a pattern; its agents go back to their own.
   *     tags: [checks]
   *     parameters: [{ name: pattern, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       204: { description: Removed. }
   *       404: { description: No settings for this pattern., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/agent-config", (ctx) => {
    ctx.body = store().settings().map(settingsOut);
  });
  router.put("/v1/agent-config/:pattern", async (ctx) => {
    const pattern = parsePattern(ctx.params.pattern!);
    const body = parseBody(AgentSettingsInput, await readJsonBody(ctx, SETTINGS_BODY_LIMIT_BYTES));
    const saved = await store().saveSettings({ pattern, ...body, updated_at: deps.now() });
    deps.agentConfig.hub.changed();
    ctx.body = settingsOut(saved);
  });
  router.delete("/v1/agent-config/:pattern", async (ctx) => {
    await store().removeSettings(parsePattern(ctx.params.pattern!));
    deps.agentConfig.hub.changed();
    ctx.status = 204;
  });

  /**
   * @openapi
   * /v1/agents/{id}/config:
   *   get:
   *     summary: The server-managed config an agent of this id is sent now (its checks, mesh included, and settings).
   *     tags: [checks]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       200: { description: The effective config., content: { application/json: { schema: { $ref: '#/components/schemas/EffectiveAgentConfig' } } } }
   *       400: { description: Not a valid agent id., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/agents/:id/config", (ctx) => {
    const problem = agentIdProblem(ctx.params.id!);
    if (problem) throw badRequest("id", problem);
    ctx.body = { agent_id: ctx.params.id, ...deps.agentConfig.hub.configOf(ctx.params.id!) };
  });

  return router;
}
