import { Router } from "@koa/router";
import type { HttpDeps } from "../context.ts";

export function probesRouter(deps: Pick<HttpDeps, "lifecycle">): Router {
  const router = new Router();

  /**
   * @openapi
   * /healthz:
   *   get:
   *     summary: Liveness probe — the process is up and its event loop turns.
   *     tags: [probes]
   *     security: []
   *     responses:
   *       200: { description: Alive., content: { application/json: { schema: { $ref: '#/components/schemas/Probe' } } } }
   */
  router.get("/healthz", (ctx) => {
    ctx.body = { status: "alive", checks: {} };
  });

  /**
   * @openapi
   * /readyz:
   *   get:
   *     summary: Readiness probe — storage open, every actor running, not shutting down.
   *     tags: [probes]
   *     security: []
   *     responses:
   *       200: { description: Ready to take reports and queries., content: { application/json: { schema: { $ref: '#/components/schemas/Probe' } } } }
   *       503: { description: Not ready; `checks` says what is missing., content: { application/json: { schema: { $ref: '#/components/schemas/Probe' } } } }
   */
  router.get("/readyz", (ctx) => {
    const checks = { ...deps.lifecycle.ready(), accepting: !deps.lifecycle.shuttingDown };
    const ready = checks.storage && checks.actors && checks.accepting;
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? "ready" : "not_ready", checks };
  });

  return router;
}
