import { Router } from "@koa/router";
import type { Context } from "koa";
import { TsmonError } from "../../../common/errors.ts";
import { seriesStats } from "../../query/aggregate.ts";
import { bucketsAsColumns } from "../../query/bucket-grid.ts";
import { closestNames } from "../../query/closest-names.ts";
import { DAY_MS } from "../../storage/days.ts";
import type { HttpDeps } from "../context.ts";
import type { SeriesResult, SeriesStatsResult } from "../openapi/schemas.ts";
import type { SeriesColumnsResult } from "../openapi/fleet-schemas.ts";
import { badRequest } from "../errors.ts";
import { intParam, parseLabelFilter, parseTime, queryParam } from "../params.ts";

/** A query of points may span at most this long. */
const MAX_RANGE_MS = 31 * DAY_MS;
/** With a step, buckets come from rollups where whole days allow: a year, bounded by MAX_BUCKETS. */
const MAX_STEP_RANGE_MS = 366 * DAY_MS;
/** With `step`, at most this many buckets per series (a chart has fewer pixels). */
const MAX_BUCKETS = 20_000;

export function metricsRouter(deps: Pick<HttpDeps, "control" | "store" | "window">): Router {
  const router = new Router();

  /**
   * An empty answer for a metric the agent does not have is most often a typo: 404 naming
   * the agent's nearest metric names. Known metrics (the agent's window holds their latest
   * value) stay 200 and empty; so does any query when the window cannot tell.
   */
  async function assertKnownMetric(agent: string, metric: string): Promise<void> {
    const latest = await deps.window.latest(agent).catch(() => undefined);
    const names = new Set(latest?.values.map((v) => v.metric) ?? []);
    if (names.size === 0 || names.has(metric)) return;
    const closest = closestNames(metric, names);
    throw new TsmonError("NOT_FOUND", `agent '${agent}' has no metric '${metric}'; its closest metric names: ${closest.join(", ")}`);
  }

  /** agent, metric, from, to and labels, checked alike for every metrics query. */
  function seriesQuery(ctx: Context, stepMs?: number) {
    const agent = queryParam(ctx.query, "agent", true);
    const metric = queryParam(ctx.query, "metric", true);
    const from = parseTime("from", queryParam(ctx.query, "from", true));
    const to = parseTime("to", queryParam(ctx.query, "to", true));
    const labels = parseLabelFilter("labels", queryParam(ctx.query, "labels"));
    if (to < from) throw badRequest("to", "must not be before from");
    if (stepMs === undefined && to - from > MAX_RANGE_MS) throw badRequest("to", "the range may span at most 31 days (366 with step)");
    // Only whole minutes are answered from rollups; any other step reads every raw point.
    if (stepMs !== undefined && stepMs % 60_000 !== 0 && to - from > MAX_RANGE_MS) {
      throw badRequest("step", "over more than 31 days must be a whole number of minutes (a multiple of 60), which rollups answer");
    }
    if (to - from > MAX_STEP_RANGE_MS) throw badRequest("to", "the range may span at most 366 days");
    if (!deps.control.getAgent(agent)) throw new TsmonError("NOT_FOUND", `agent '${agent}' has never reported`);
    const head = { agent_id: agent, metric_name: metric, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    if (stepMs !== undefined && (to - from) / stepMs > MAX_BUCKETS) {
      throw badRequest("step", `gives more than ${MAX_BUCKETS} buckets over this range; use at least ${Math.ceil((to - from) / 1000 / MAX_BUCKETS)}`);
    }
    return { head, agent, metric, labels, from, to };
  }

  /**
   * @openapi
   * /v1/metrics:
   *   get:
   *     summary: Time series of one metric of one agent, grouped by label set; optionally downsampled.
   *     description: Ranges span day partitions without seams. With `step`, each series has `buckets` of min/max/avg/count instead of `points`, so a spike survives downsampling. Also answers as `GET /api/v1/history` (the seeds' name).
   *     tags: [metrics]
   *     parameters:
   *       - { name: agent, in: query, required: true, schema: { type: string } }
   *       - { name: metric, in: query, required: true, schema: { type: string } }
   *       - { name: from, in: query, required: true, description: ISO 8601 or epoch ms, schema: { type: string } }
   *       - { name: to, in: query, required: true, description: ISO 8601 or epoch ms, schema: { type: string } }
   *       - { name: labels, in: query, required: false, description: "label filter, e.g. mount:/data", schema: { type: string } }
   *       - { name: step, in: query, required: false, description: "seconds per bucket (at most 20,000 buckets); with a whole number of minutes the range may span 366 days, answered from rollups (also beyond retention_days)", schema: { type: integer, minimum: 1 } }
   *       - { name: format, in: query, required: false, description: "pairs (default) or columns: each series as `timestamps` and `values` arrays (with step, `timestamps` of the non-empty buckets and `min`, `max`, `avg`, `count`)", schema: { type: string, enum: [pairs, columns] } }
   *     responses:
   *       200:
   *         description: The series; each point is [timestamp_ms, value], each bucket [start_ms, min, max, avg, count]; with format=columns, arrays per series.
   *         content:
   *           application/json:
   *             schema:
   *               oneOf:
   *                 - { $ref: '#/components/schemas/SeriesResult' }
   *                 - { $ref: '#/components/schemas/SeriesColumnsResult' }
   *       400:
   *         description: A parameter is missing or malformed; the message names it.
   *         content:
   *           application/json:
   *             schema: { $ref: '#/components/schemas/Error' }
   *       404:
   *         description: The agent has never reported, or has no metric of that name (the message names its closest metric names).
   *         content:
   *           application/json:
   *             schema: { $ref: '#/components/schemas/Error' }
   */
  router.get("/v1/metrics", async (ctx) => {
    const rawStep = queryParam(ctx.query, "step");
    const step = rawStep === undefined ? undefined : intParam(rawStep, "step", 0, 1, MAX_STEP_RANGE_MS / 1000);
    const format = queryParam(ctx.query, "format") ?? "pairs";
    if (format !== "pairs" && format !== "columns") throw badRequest("format", `"${format.slice(0, 40)}" is neither pairs (the default) nor columns`);
    const q = seriesQuery(ctx, step === undefined ? undefined : step * 1000);
    if (format === "columns") {
      const series = step === undefined
        ? deps.store.queryColumns(q.agent, q.metric, q.from, q.to, q.labels).map((s) => ({ labels: s.labels, timestamps: Array.from(s.timestamps), values: Array.from(s.values) }))
        : deps.store.buckets(q.agent, q.metric, q.from, q.to, step * 1000, q.labels).map((s) => ({ labels: s.labels, ...bucketsAsColumns(s.buckets) }));
      if (series.length === 0) await assertKnownMetric(q.agent, q.metric);
      const body: SeriesColumnsResult = { ...q.head, ...(step !== undefined && { step }), format: "columns", series };
      ctx.body = body;
      return;
    }
    const body: SeriesResult = step === undefined
      ? { ...q.head, series: deps.store.query(q.agent, q.metric, q.from, q.to, q.labels).map((s) => ({ labels: s.labels, points: s.points })) }
      : { ...q.head, step, series: deps.store.buckets(q.agent, q.metric, q.from, q.to, step * 1000, q.labels) };
    if (body.series.length === 0) await assertKnownMetric(q.agent, q.metric);
    ctx.body = body;
  });

  /**
   * @openapi
   * /v1/metrics/stats:
   *   get:
   *     summary: Count, min, max, avg and percentiles (p50, p95, p99) of each series of one metric over a range.
   *     description: Also answers as `GET /api/v1/stats` (the seeds' name).
   *     tags: [metrics]
   *     parameters:
   *       - { name: agent, in: query, required: true, schema: { type: string } }
   *       - { name: metric, in: query, required: true, schema: { type: string } }
   *       - { name: from, in: query, required: true, description: ISO 8601 or epoch ms, schema: { type: string } }
   *       - { name: to, in: query, required: true, description: ISO 8601 or epoch ms, schema: { type: string } }
   *       - { name: labels, in: query, required: false, description: "label filter, e.g. mount:/data", schema: { type: string } }
   *     responses:
   *       200: { description: One entry per series with points in the range., content: { application/json: { schema: { $ref: '#/components/schemas/SeriesStatsResult' } } } }
   *       400: { description: A parameter is missing or malformed., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: The agent has never reported., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/metrics/stats", (ctx) => {
    const q = seriesQuery(ctx);
    const body: SeriesStatsResult = {
      ...q.head,
      series: deps.store.queryColumns(q.agent, q.metric, q.from, q.to, q.labels).flatMap((s) => {
        const stats = seriesStats(s.values);
        return stats ? [{ labels: s.labels, ...stats }] : [];
      }),
    };
    ctx.body = body;
  });

  return router;
}
