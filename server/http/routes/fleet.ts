import { Router } from "@koa/router";
import { DAY_MS } from "../../storage/days.ts";
import { bucketCount } from "../../query/bucket-grid.ts";
import { agentStatus, fleetBuckets, selectAgents } from "../../query/fleet.ts";
import type { AgentRecord } from "../../storage/control-store.ts";
import type { HttpDeps } from "../context.ts";
import type { FleetOverview, FleetQueryResult } from "../openapi/fleet-schemas.ts";
import { badRequest } from "../errors.ts";
import { durationParam, intParam, listParam, parseLabelFilter, parseTime, queryParam } from "../params.ts";

/*
 * Bounds, so no request asks for unbounded work: every (agent, bucket) pair of a reply is a
 * cell the server computes and serialises, and every agent is one storage read.
 */
/** At most this many agents matched by one request. */
const MAX_AGENTS = 10_000;
/** /v1/query: agents × buckets at most (1,000 agents × a day at step=90). */
const MAX_QUERY_CELLS = 1_000_000;
/** /v1/query reads points (or rollups, for whole sealed days) over at most this range. */
const MAX_QUERY_RANGE_MS = 31 * DAY_MS;
/** /v1/overview: a sparkline of at most this many buckets, over at most a day. */
const MAX_OVERVIEW_BUCKETS = 500;
const MAX_OVERVIEW_WINDOW_MS = DAY_MS;
const MAX_OVERVIEW_METRICS = 8;
const DEFAULT_OVERVIEW_METRICS = ["cpu.usage", "memory.used_percent", "disk.used_percent", "network.bytes_recv"];

export function fleetRouter(deps: Pick<HttpDeps, "config" | "control" | "store" | "now">): Router {
  const router = new Router();

  /** The agents the `agents` globs pick (default: all), bounded. */
  function pickAgents(raw: string | undefined, known: readonly AgentRecord[] = deps.control.listAgents()): string[] {
    const globs = listParam(raw, "agents", ["*"], 100);
    const picked = selectAgents(known.map((a) => a.agent_id), globs);
    if (picked.length > MAX_AGENTS) throw badRequest("agents", `matches ${picked.length} agents; at most ${MAX_AGENTS} per request: narrow the globs`);
    return picked;
  }

  /**
   * @openapi
   * /v1/query:
   *   get:
   *     summary: One metric of many agents in step buckets, in one columnar reply.
   *     description: Every series of every agent matching `agents`, bucketed exactly as `/v1/metrics?step` buckets one agent (the same storage read; whole sealed days come from rollups). Bucket starts are sent once (`timestamps`); each series has `min`, `max`, `avg` (null where empty) and `count` arrays aligned to them. Agents × buckets may be at most 1,000,000.
   *     tags: [metrics]
   *     parameters:
   *       - { name: metric, in: query, required: true, schema: { type: string } }
   *       - { name: agents, in: query, required: false, description: "comma-separated agent id globs (`*`, `?`); default every agent", schema: { type: string } }
   *       - { name: from, in: query, required: false, description: "ISO 8601 or epoch ms; default an hour before `to`", schema: { type: string } }
   *       - { name: to, in: query, required: false, description: "ISO 8601 or epoch ms; default now", schema: { type: string } }
   *       - { name: step, in: query, required: false, description: "seconds per bucket (default 60)", schema: { type: integer, minimum: 1, maximum: 86400 } }
   *       - { name: labels, in: query, required: false, description: "label filter, e.g. mount:/data", schema: { type: string } }
   *     responses:
   *       200: { description: The agents matched and their series., content: { application/json: { schema: { $ref: '#/components/schemas/FleetQueryResult' } } } }
   *       400: { description: "A parameter is missing, malformed or asks for too much; the message names it.", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/query", (ctx) => {
    const metric = queryParam(ctx.query, "metric", true);
    const rawTo = queryParam(ctx.query, "to"), rawFrom = queryParam(ctx.query, "from");
    const toMs = rawTo === undefined ? deps.now() : parseTime("to", rawTo);
    const fromMs = rawFrom === undefined ? toMs - 3_600_000 : parseTime("from", rawFrom);
    const step = intParam(queryParam(ctx.query, "step"), "step", 60, 1, 86_400);
    const labels = parseLabelFilter("labels", queryParam(ctx.query, "labels"));
    if (toMs < fromMs) throw badRequest("to", "must not be before from");
    if (toMs - fromMs > MAX_QUERY_RANGE_MS) throw badRequest("from", "the range may span at most 31 days");
    const buckets = bucketCount(fromMs, toMs, step * 1000);
    const agents = pickAgents(queryParam(ctx.query, "agents"));
    if (agents.length * buckets > MAX_QUERY_CELLS) {
      throw badRequest("step", `${agents.length} agents × ${buckets} buckets is more than ${MAX_QUERY_CELLS.toLocaleString("en")}; use a step of at least ${Math.ceil(((toMs - fromMs) / 1000) * agents.length / MAX_QUERY_CELLS)} s, a shorter range or fewer agents`);
    }
    const read = fleetBuckets(deps.store, { agentIds: agents, metrics: [metric], fromMs, toMs, stepMs: step * 1000, labels });
    const body: FleetQueryResult = {
      metric_name: metric, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), step, agents, timestamps: read.timestamps,
      series: read.series.map((s) => ({ agent_id: s.agent_id, labels: s.labels, min: s.min!, max: s.max!, avg: s.avg!, count: s.count! })),
    };
    ctx.body = body;
  });

  /**
   * @openapi
   * /v1/overview:
   *   get:
   *     summary: Every agent's status, last report and sparklines of a few metrics, for a fleet dashboard.
   *     description: "Per agent: `status` (alerting while an alert fires on it; otherwise online or offline as `/v1/agents` decides with agent_active_secs), `last_seen`, and per series of each metric the bucket means over the last `window` (`avg`, aligned to the shared `timestamps`). At most 8 metrics, a window of a day, 500 buckets and 10,000 agents."
   *     tags: [agents]
   *     parameters:
   *       - { name: metrics, in: query, required: false, description: "comma-separated metric names; default cpu.usage,memory.used_percent,disk.used_percent,network.bytes_recv", schema: { type: string } }
   *       - { name: agents, in: query, required: false, description: "comma-separated agent id globs; default every agent", schema: { type: string } }
   *       - { name: window, in: query, required: false, description: "how far back from now: seconds or 90s, 15m, 1h, 1d (default 15m, at most 1d)", schema: { type: string } }
   *       - { name: step, in: query, required: false, description: "seconds per bucket (default 30)", schema: { type: integer, minimum: 1, maximum: 86400 } }
   *     responses:
   *       200: { description: "The agents matched, sorted by id.", content: { application/json: { schema: { $ref: '#/components/schemas/FleetOverview' } } } }
   *       400: { description: A parameter is malformed or asks for too much; the message names it., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/overview", (ctx) => {
    const metrics = [...new Set(listParam(queryParam(ctx.query, "metrics"), "metrics", DEFAULT_OVERVIEW_METRICS, MAX_OVERVIEW_METRICS))];
    const windowMs = durationParam(queryParam(ctx.query, "window"), "window", 15 * 60_000, 1_000, MAX_OVERVIEW_WINDOW_MS);
    const step = intParam(queryParam(ctx.query, "step"), "step", 30, 1, 86_400);
    const toMs = deps.now(), fromMs = toMs - windowMs;
    const buckets = bucketCount(fromMs, toMs, step * 1000);
    if (buckets > MAX_OVERVIEW_BUCKETS) throw badRequest("step", `gives ${buckets} buckets over the window; at most ${MAX_OVERVIEW_BUCKETS}: use a step of at least ${Math.ceil(windowMs / 1000 / (MAX_OVERVIEW_BUCKETS - 1))} s`);
    const known = deps.control.listAgents();
    const agentIds = pickAgents(queryParam(ctx.query, "agents"), known);
    const records = new Map(known.map((a) => [a.agent_id, a]));
    const firing = new Map<string, number>();
    for (const alert of deps.control.alerts.active()) firing.set(alert.agent_id, (firing.get(alert.agent_id) ?? 0) + 1);
    const read = fleetBuckets(deps.store, { agentIds, metrics, fromMs, toMs, stepMs: step * 1000, fields: ["avg"] });
    const activeMs = deps.config.agent_active_secs * 1000;
    const byAgent = new Map<string, FleetOverview["agents"][number]>();
    for (const agentId of agentIds) {
      const lastSeen = records.get(agentId)?.last_seen ?? 0;
      const alerts = firing.get(agentId) ?? 0;
      byAgent.set(agentId, {
        agent_id: agentId, status: agentStatus(lastSeen, toMs, activeMs, alerts), active: toMs - lastSeen <= activeMs,
        firing_alerts: alerts, last_seen: new Date(lastSeen).toISOString(), series: [],
      });
    }
    for (const s of read.series) byAgent.get(s.agent_id)!.series.push({ metric_name: s.metric, labels: s.labels, avg: s.avg! });
    const body: FleetOverview = {
      from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), step, metrics, timestamps: read.timestamps, agents: [...byAgent.values()],
    };
    ctx.body = body;
  });

  return router;
}
