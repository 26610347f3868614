import { Router } from "@koa/router";
import type { HttpDeps } from "../context.ts";
import type { Health } from "../openapi/schemas.ts";

export function healthRouter(deps: Pick<HttpDeps, "config" | "control" | "now" | "partitions" | "startedAt" | "version">): Router {
  const router = new Router();

  /**
   * @openapi
   * /v1/health:
   *   get:
   *     summary: Server health, as the reference (version, uptime, agents, storage).
   *     tags: [system]
   *     security: []
   *     responses:
   *       200:
   *         description: The server is up.
   *         content:
   *           application/json:
   *             schema: { $ref: '#/components/schemas/Health' }
   */
  router.get("/v1/health", (ctx) => {
    const now = deps.now();
    const agents = deps.control.listAgents();
    const activeMs = deps.config.agent_active_secs * 1000;
    const body: Health = {
      status: "ok",
      version: deps.version,
      uptime_secs: Math.floor((now - deps.startedAt) / 1000),
      agent_count: agents.length,
      active_agents: agents.filter((a) => now - a.last_seen <= activeMs).length,
      storage: { status: "ok", partitions: deps.partitions.files.days().length, retention_days: deps.config.retention_days },
      // Which process answered: under PM2 cluster several share the port. Counters are in /metrics.
      pid: process.pid,
    };
    ctx.body = body;
  });

  return router;
}
