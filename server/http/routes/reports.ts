import { Router } from "@koa/router";
import { selectAgents } from "../../query/fleet.ts";
import { buildReport } from "../../reports/build-report.ts";
import { reportCsv } from "../../reports/report-csv.ts";
import { DAY_MS } from "../../storage/days.ts";
import type { HttpDeps } from "../context.ts";
import { badRequest } from "../errors.ts";
import { listParam, parseTime, queryParam } from "../params.ts";

/** A report reads one-minute buckets of four metrics per host: bounded in span and hosts. */
const MAX_RANGE_MS = 31 * DAY_MS;
const MAX_HOSTS = 2_000;

export function reportsRouter(deps: Pick<HttpDeps, "control" | "store" | "now">): Router {
  const router = new Router();

  /**
   * @openapi
   * /v1/reports:
   *   get:
   *     summary: Availability, alerts and peaks of a set of hosts over a period, as JSON or CSV.
   *     description: "Per host: the percent of the period's minutes with a report (counted from its first report), alert episodes that fired and the seconds at least one alert was firing, p95 (of one-minute means) and max of cpu.usage, memory.used_percent and the fullest mount's disk.used_percent; per check the host ran, the percent of probes that found it up. At most 31 days and 2,000 hosts."
   *     tags: [agents]
   *     parameters:
   *       - { name: from, in: query, required: true, description: ISO 8601 or epoch ms, schema: { type: string } }
   *       - { name: to, in: query, required: true, description: ISO 8601 or epoch ms, schema: { type: string } }
   *       - { name: agents, in: query, required: false, description: "comma-separated agent id globs (`*`, `?`); default every agent", schema: { type: string } }
   *       - { name: format, in: query, required: false, description: "json (default) or csv: one row per host and per check", schema: { type: string, enum: [json, csv] } }
   *     responses:
   *       200:
   *         description: The report; hosts sorted by id.
   *         content:
   *           application/json: { schema: { $ref: '#/components/schemas/AvailabilityReport' } }
   *           text/csv: { schema: { type: string } }
   *       400: { description: A parameter is malformed or asks for too much; the message names it., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/reports", (ctx) => {
    const fromMs = parseTime("from", queryParam(ctx.query, "from", true));
    const toMs = parseTime("to", queryParam(ctx.query, "to", true));
    if (toMs <= fromMs) throw badRequest("to", "must be after from");
    if (toMs - fromMs > MAX_RANGE_MS) throw badRequest("to", "a report may span at most 31 days");
    const format = queryParam(ctx.query, "format") ?? "json";
    if (format !== "json" && format !== "csv") throw badRequest("format", `"${format.slice(0, 40)}" is neither json (the default) nor csv`);
    const globs = listParam(queryParam(ctx.query, "agents"), "agents", ["*"], 100);
    const known = new Map(deps.control.listAgents().map((a) => [a.agent_id, a]));
    const picked = selectAgents(known.keys(), globs);
    if (picked.length > MAX_HOSTS) throw badRequest("agents", `matches ${picked.length} agents; a report covers at most ${MAX_HOSTS}: narrow the globs`);
    const report = buildReport(deps.store, deps.control.alerts, {
      agents: picked.map((id) => known.get(id)!), agentsPattern: globs.join(","), fromMs, toMs, nowMs: deps.now(),
    });
    if (format === "csv") {
      ctx.type = "text/csv; charset=utf-8";
      ctx.set("Content-Disposition", `attachment; filename="tsmon-report-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}.csv"`);
      ctx.body = reportCsv(report);
      return;
    }
    ctx.body = report;
  });

  return router;
}
