import { Router } from "@koa/router";
import { TsmonError } from "../../../common/errors.ts";
import type { HttpDeps } from "../context.ts";
import type { Agent, DataPoint } from "../openapi/schemas.ts";

export function agentsRouter(deps: Pick<HttpDeps, "config" | "control" | "now" | "window">): Router {
  const router = new Router();

  /**
   * @openapi
   * /v1/agents:
   *   get:
   *     summary: Every agent that has reported, with when it was last seen, its version and its last failed self-update.
   *     tags: [agents]
   *     responses:
   *       200:
   *         description: Agents, sorted by id.
   *         content:
   *           application/json:
   *             schema: { type: array, items: { $ref: '#/components/schemas/Agent' } }
   */
  router.get("/v1/agents", (ctx) => {
    const now = deps.now();
    const activeMs = deps.config.agent_active_secs * 1000;
    ctx.body = deps.control.listAgents().map((a): Agent => ({
      agent_id: a.agent_id,
      last_seen: new Date(a.last_seen).toISOString(),
      active: now - a.last_seen <= activeMs,
      first_seen: new Date(a.first_seen).toISOString(),
      dropped_batches: a.dropped_batches,
      system_info: a.system_info ?? null,
      agent_version: a.system_info?.agentVersion || null,
      failed_update: a.system_info?.updateFailedVersion ? { version: a.system_info.updateFailedVersion, reason: a.system_info.updateFailure ?? "" } : null,
    }));
  });

  /**
   * @openapi
   * /v1/agents/{id}/latest:
   *   get:
   *     summary: The latest value of every series of one agent.
   *     tags: [agents]
   *     parameters:
   *       - { name: id, in: path, required: true, schema: { type: string } }
   *     responses:
   *       200:
   *         description: One entry per series (metric + label set), sorted by metric.
   *         content:
   *           application/json:
   *             schema: { type: array, items: { $ref: '#/components/schemas/DataPoint' } }
   *       404:
   *         description: The agent has never reported.
   *         content:
   *           application/json:
   *             schema: { $ref: '#/components/schemas/Error' }
   */
  router.get("/v1/agents/:id/latest", async (ctx) => {
    const agentId = ctx.params.id!;
    if (!deps.control.getAgent(agentId)) throw new TsmonError("NOT_FOUND", `agent '${agentId}' has never reported`);
    const latest = await deps.window.latest(agentId);
    ctx.body = latest.values.map((v): DataPoint => ({
      agent_id: agentId,
      metric_name: v.metric,
      labels: v.labels,
      value: v.value,
      timestamp: new Date(v.timestamp).toISOString(),
      timestamp_ms: v.timestamp,
    }));
  });

  return router;
}
