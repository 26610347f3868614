import { Router } from "@koa/router";
import type { HttpDeps } from "../context.ts";
import { fleetExposition } from "../../observability/fleet-exposition.ts";

export function prometheusRouter(deps: Pick<HttpDeps, "control" | "metrics" | "window">): Router {
  const router = new Router();

  /**
   * @openapi
   * /metrics:
   *   get:
   *     summary: This process's own metrics in Prometheus text format.
   *     description: Ingest counts and latency, refusals by reason, actor mailboxes and restarts, LMDB sizes, alert events, notifications, HTTP durations.
   *     tags: [probes]
   *     responses:
   *       200: { description: Prometheus exposition (text/plain; version=0.0.4)., content: { text/plain: { schema: { type: string } } } }
   */
  router.get("/metrics", async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });

  /**
   * @openapi
   * /metrics/fleet:
   *   get:
   *     summary: The latest value of every agent series as Prometheus gauges (`tsmon_metric{agent_id, name, ...labels}`).
   *     tags: [probes]
   *     responses:
   *       200: { description: Prometheus exposition., content: { text/plain: { schema: { type: string } } } }
   */
  router.get("/metrics/fleet", async (ctx) => {
    const agents = deps.control.listAgents();
    const latest = await Promise.all(agents.map((a) => deps.window.latest(a.agent_id)));
    ctx.type = "text/plain; version=0.0.4; charset=utf-8";
    ctx.body = fleetExposition(latest.map((l) => ({ agentId: l.agentId, values: l.values })));
  });

  return router;
}
