import { Router } from "@koa/router";
import { LIMITS } from "../../ingest/limits.ts";
import type { HttpDeps } from "../context.ts";
import type { ReportResponse } from "../openapi/schemas.ts";
import { readJson } from "../body.ts";
import { bearerToken } from "../../bearer.ts";
import { DUPLICATE_MESSAGE } from "../../ingest/report-key.ts";

export function reportRouter(deps: Pick<HttpDeps, "config" | "intake">): Router {
  const router = new Router();

  /**
   * @openapi
   * /v1/report:
   *   post:
   *     summary: Report a batch of metrics over HTTP, for agents that cannot speak gRPC.
   *     description: Same shape, validation and authentication as MetricService.ReportMetrics.
   *     tags: [ingest]
   *     security: [{ agentToken: [] }, { bearerAuth: [] }]
   *     requestBody:
   *       required: true
   *       content:
   *         application/json:
   *           schema: { $ref: '#/components/schemas/MetricBatch' }
   *     responses:
   *       200:
   *         description: Stored durably.
   *         content:
   *           application/json:
   *             schema: { $ref: '#/components/schemas/ReportResponse' }
   *       400: { description: Invalid batch; nothing stored., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       401: { description: "Missing or unknown agent token (require_agent_auth), or no operator credential (otherwise).", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       403: { description: The token belongs to another agent., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       413: { description: Body too large., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       415: { description: Body is not JSON., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       429: { description: Ingest saturated; retry later., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/v1/report", async (ctx) => {
    const token = bearerToken(ctx.get("authorization"));
    const sender = deps.intake.identify(token, `http:${ctx.ip}`);
    const { body, bytes } = await readJson(ctx, Math.min(LIMITS.maxReportBytes, deps.config.http.body_limit_bytes));
    const stored = await deps.intake.submit({ type: "report-json", body, auth: { token } }, sender, bytes);
    const reply: ReportResponse = { success: true, message: stored.duplicate ? DUPLICATE_MESSAGE : `stored ${stored.points} points` };
    ctx.body = reply;
  });

  return router;
}
