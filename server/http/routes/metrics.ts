import { Router } from "@koa/router";
import { TsmonError } from "../../../common/errors.ts";
import { DAY_MS } from "../../storage/days.ts";
import type { HttpDeps } from "../context.ts";
import type { SeriesResult } from "../openapi/schemas.ts";
import { badRequest } from "../errors.ts";
import { parseLabelFilter, parseTime, queryParam } from "../params.ts";

/** A query may span at most this long; longer ranges arrive with rollups. */
const MAX_RANGE_MS = 31 * DAY_MS;

export function metricsRouter(deps: HttpDeps): Router {
  const router = new Router();

  /**
   * @openapi
   * /v1/metrics:
   *   get:
   *     summary: Time series of one metric of one agent, grouped by label set.
   *     tags: [metrics]
   *     parameters:
   *       - { name: agent, in: query, required: true, schema: { type: string } }
   *       - { name: metric, in: query, required: true, schema: { type: string } }
   *       - { name: from, in: query, required: true, description: ISO 8601 or epoch ms, schema: { type: string } }
   *       - { name: to, in: query, required: true, description: ISO 8601 or epoch ms, schema: { type: string } }
   *       - { name: labels, in: query, required: false, description: "label filter, e.g. mount:/data", schema: { type: string } }
   *     responses:
   *       200:
   *         description: The series; each point is [timestamp_ms, value].
   *         content:
   *           application/json:
   *             schema: { $ref: '#/components/schemas/SeriesResult' }
   *       400:
   *         description: A parameter is missing or malformed; the message names it.
   *         content:
   *           application/json:
   *             schema: { $ref: '#/components/schemas/Error' }
   *       404:
   *         description: The agent has never reported.
   *         content:
   *           application/json:
   *             schema: { $ref: '#/components/schemas/Error' }
   */
  router.get("/v1/metrics", (ctx) => {
    const agent = queryParam(ctx.query, "agent", true);
    const metric = queryParam(ctx.query, "metric", true);
    const from = parseTime("from", queryParam(ctx.query, "from", true));
    const to = parseTime("to", queryParam(ctx.query, "to", true));
    const labels = parseLabelFilter("labels", queryParam(ctx.query, "labels"));
    if (to < from) throw badRequest("to", "must not be before from");
    if (to - from > MAX_RANGE_MS) throw badRequest("to", "the range may span at most 31 days");
    if (!deps.control.getAgent(agent)) throw new TsmonError("NOT_FOUND", `agent '${agent}' has never reported`);
    const series = deps.store.query(agent, metric, from, to, labels);
    const body: SeriesResult = {
      agent_id: agent,
      metric_name: metric,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      series: series.map((s) => ({ labels: s.labels, points: s.points })),
    };
    ctx.body = body;
  });

  return router;
}
