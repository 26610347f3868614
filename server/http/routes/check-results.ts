import { Router } from "@koa/router";
import type { Context } from "koa";
import { selectAgents } from "../../query/fleet.ts";
import { DAY_MS } from "../../storage/days.ts";
import type { HttpDeps } from "../context.ts";
import type { CheckResults, TracerouteList } from "../openapi/check-result-schemas.ts";
import { badRequest } from "../errors.ts";
import { intParam, listParam, parseTime, queryParam } from "../params.ts";

/** A check's results are read over at most this long (raw points, every agent). */
const MAX_RESULTS_RANGE_MS = 31 * DAY_MS;
/** Events per check and reply, over all agents. */
const MAX_EVENTS = 10_000;
const MAX_TRACEROUTES = 200;
const DEFAULT_TRACEROUTES = 20;
/** The series a check's results show, read in one pass per agent. */
const RESULT_METRICS = ["check.up", "check.rtt_ms"] as const;

/** `from`/`to` as given, else the `defaultMs` before now; bounded. */
function timeRange(ctx: Context, now: number, defaultMs: number, maxMs: number): { fromMs: number; toMs: number } {
  const rawTo = queryParam(ctx.query, "to"), rawFrom = queryParam(ctx.query, "from");
  const toMs = rawTo === undefined ? now : parseTime("to", rawTo);
  const fromMs = rawFrom === undefined ? toMs - defaultMs : parseTime("from", rawFrom);
  if (toMs < fromMs) throw badRequest("to", "must not be before from");
  if (toMs - fromMs > maxMs) throw badRequest("from", `the range may span at most ${maxMs / DAY_MS} days`);
  return { fromMs, toMs };
}

/**
 * What the checks found: per agent, a check's series and events (a check's id is its name,
 * the `check` label of its samples, whether it comes from an agent's `[[checks]]` or from
 * the server), and the paths agents traced.
 */
export function checkResultsRouter(deps: Pick<HttpDeps, "control" | "store" | "now">): Router {
  const router = new Router();

  /**
   * @openapi
   * /v1/checks/{id}/results:
   *   get:
   *     summary: "A check's results per agent: its check.up and check.rtt_ms series and its events (downs with their reasons)."
   *     description: "`id` is the check's name (the `check` label of its samples). Every agent that reported the check, or an event of it, in the range is listed with its series (raw points) and its events: the first result since the agent started, each change to down (with `reason_code` and `reason_message`) and back up. At most 31 days; events are capped at 10,000 per reply."
   *     tags: [checks]
   *     parameters:
   *       - { name: id, in: path, required: true, description: the check's name, schema: { type: string } }
   *       - { name: from, in: query, required: false, description: "ISO 8601 or epoch ms; default an hour before `to`", schema: { type: string } }
   *       - { name: to, in: query, required: false, description: "ISO 8601 or epoch ms; default now", schema: { type: string } }
   *       - { name: agents, in: query, required: false, description: "comma-separated agent id globs; default every agent", schema: { type: string } }
   *     responses:
   *       200: { description: "The agents that ran the check in the range, by id.", content: { application/json: { schema: { $ref: '#/components/schemas/CheckResults' } } } }
   *       400: { description: A parameter is malformed or asks for too much; the message names it., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/checks/:id/results", (ctx) => {
    const check = ctx.params.id!;
    const { fromMs, toMs } = timeRange(ctx, deps.now(), 3_600_000, MAX_RESULTS_RANGE_MS);
    const globs = listParam(queryParam(ctx.query, "agents"), "agents", ["*"], 100);
    const events = deps.control.checkEvents.eventsOf(check, { fromMs, toMs, limit: MAX_EVENTS });
    const agents = selectAgents(deps.control.listAgents().map((a) => a.agent_id), globs);
    const series = deps.store.consistentRead(() => agents.map((agentId) => ({
      agentId, series: deps.store.columnsOf(agentId, RESULT_METRICS, fromMs, toMs, { check }),
    })));
    const body: CheckResults = {
      check, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(),
      agents: series.flatMap(({ agentId, series }) => {
        const own = events.filter((e) => e.agent_id === agentId);
        if (series.length === 0 && own.length === 0) return [];
        return [{
          agent_id: agentId,
          series: series.map((s) => ({ metric_name: s.metric as (typeof RESULT_METRICS)[number], labels: s.labels, timestamps: Array.from(s.timestamps), values: Array.from(s.values) })),
          events: own,
        }];
      }),
    };
    ctx.body = body;
  });

  /**
   * @openapi
   * /v1/traceroutes:
   *   get:
   *     summary: Paths agents traced towards their checks' targets (on failure, or asked for), newest first.
   *     description: "Each traceroute lists its hops in TTL order: the address that answered (absent: none did) and one round-trip time per probe (null: no answer, shown as *)."
   *     tags: [checks]
   *     parameters:
   *       - { name: agent, in: query, required: false, description: only this agent's, schema: { type: string } }
   *       - { name: check, in: query, required: false, description: only this check's (its name), schema: { type: string } }
   *       - { name: from, in: query, required: false, description: "ISO 8601 or epoch ms; default a day before `to`", schema: { type: string } }
   *       - { name: to, in: query, required: false, description: "ISO 8601 or epoch ms; default now", schema: { type: string } }
   *       - { name: limit, in: query, required: false, description: "at most this many (default 20, at most 200)", schema: { type: integer, minimum: 1, maximum: 200 } }
   *     responses:
   *       200: { description: The traceroutes found., content: { application/json: { schema: { $ref: '#/components/schemas/TracerouteList' } } } }
   *       400: { description: A parameter is malformed; the message names it., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/traceroutes", (ctx) => {
    const { fromMs, toMs } = timeRange(ctx, deps.now(), DAY_MS, MAX_RESULTS_RANGE_MS);
    const limit = intParam(queryParam(ctx.query, "limit"), "limit", DEFAULT_TRACEROUTES, 1, MAX_TRACEROUTES);
    const traceroutes = deps.control.checkEvents.traceroutes({
      fromMs, toMs, limit, agentId: queryParam(ctx.query, "agent"), check: queryParam(ctx.query, "check"),
    });
    const body: TracerouteList = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), traceroutes };
    ctx.body = body;
  });

  return router;
}
