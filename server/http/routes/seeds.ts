import { DUPLICATE_MESSAGE } from "../../ingest/report-key.ts";
import { Router } from "@koa/router";
import type { Context } from "koa";
import { LIMITS } from "../../ingest/limits.ts";
import type { SeedShape } from "../../ingest/seed-report.ts";
import type { HttpDeps } from "../context.ts";
import type { ReportResponse } from "../openapi/schemas.ts";
import { readJson } from "../body.ts";
import { bearerToken } from "../../bearer.ts";

/**
 * The seeds' report routes, for agents that cannot speak gRPC: the same admission,
 * authentication and validation as `POST /v1/report`, in the seeds' JSON shapes.
 */
export function seedsRouter(deps: Pick<HttpDeps, "config" | "intake">): Router {
  const router = new Router();

  async function report(ctx: Context, shape: SeedShape): Promise<void> {
    const token = bearerToken(ctx.get("authorization"));
    const fallback = `http:${ctx.ip}`;
    const sender = deps.intake.identify(token, fallback);
    // identify answers the token's agent, or the fallback when the token is no agent's.
    const tokenAgent = token !== undefined && sender !== fallback ? sender : undefined;
    const { body, bytes } = await readJson(ctx, Math.min(LIMITS.maxReportBytes, deps.config.http.body_limit_bytes));
    const stored = await deps.intake.submit({ type: "report-seed", shape, body, ...(tokenAgent ? { tokenAgent } : {}), auth: { token } }, sender, bytes);
    const reply: ReportResponse = { success: true, message: stored.duplicate ? DUPLICATE_MESSAGE : `stored ${stored.points} points` };
    ctx.body = reply;
  }

  /**
   * @openapi
   * /api/report:
   *   post:
   *     summary: Report a batch of samples in the seeds' shape, for agents that cannot speak gRPC.
   *     description: |
   *       `{"agent_id": "...", "samples": [{"timestamp": <epoch ms or ISO 8601>, "metrics": {"cpu_usage": 12.5, ...}}]}`.
   *       Flat names are stored under tsmon's names (cpu_usage → cpu.usage, ram_usage → memory.used_percent, ...; the table is in docs/api.md);
   *       other valid metric names are stored as they are. `agent_id` defaults to the agent of the bearer token.
   *       With `stream_id` and `sequence` (as in `POST /v1/report`) a resent batch is acknowledged as a duplicate and stored once.
   *       Same admission, authentication and validation as MetricService.ReportMetrics; errors name the field as sent (`samples[0].metrics.cpu_usage`).
   *     tags: [ingest]
   *     security: [{ agentToken: [] }, { bearerAuth: [] }]
   *     requestBody:
   *       required: true
   *       content:
   *         application/json:
   *           schema: { $ref: '#/components/schemas/SeedBatch' }
   *     responses:
   *       200: { description: Stored durably., content: { application/json: { schema: { $ref: '#/components/schemas/ReportResponse' } } } }
   *       400: { description: Invalid body; the message names the field; nothing stored., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       401: { description: "Missing or unknown agent token (require_agent_auth), or no operator credential (otherwise).", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       403: { description: The token belongs to another agent., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       413: { description: Body too large., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       415: { description: Body is not JSON., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       429: { description: Ingest saturated; retry after Retry-After seconds., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/api/report", (ctx) => report(ctx, "batch"));

  /**
   * @openapi
   * /api/v1/metrics:
   *   post:
   *     summary: Report one flat sample in the seeds' shape.
   *     description: |
   *       `{"cpu_usage": 45.2, "memory_used": 8192, "timestamp": "2023-07-20T12:34:56Z"}`: every field but `agent_id` and `timestamp` is a metric,
   *       named as in POST /api/report. `agent_id` defaults to the agent of the bearer token. (`GET /api/v1/metrics` is `GET /v1/metrics`.)
   *     tags: [ingest]
   *     security: [{ agentToken: [] }, { bearerAuth: [] }]
   *     requestBody:
   *       required: true
   *       content:
   *         application/json:
   *           schema: { $ref: '#/components/schemas/SeedSample' }
   *     responses:
   *       200: { description: Stored durably., content: { application/json: { schema: { $ref: '#/components/schemas/ReportResponse' } } } }
   *       400: { description: Invalid body; the message names the field; nothing stored., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       401: { description: "Missing or unknown agent token (require_agent_auth), or no operator credential (otherwise).", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       403: { description: The token belongs to another agent., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       413: { description: Body too large., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       415: { description: Body is not JSON., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       429: { description: Ingest saturated; retry after Retry-After seconds., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/api/v1/metrics", (ctx) => report(ctx, "flat"));

  return router;
}
