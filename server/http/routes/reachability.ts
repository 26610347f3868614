import { Router } from "@koa/router";
import { selectAgents } from "../../query/fleet.ts";
import type { HttpDeps } from "../context.ts";
import type { ReachabilityMatrix } from "../openapi/check-result-schemas.ts";
import { badRequest } from "../errors.ts";
import { listParam, queryParam } from "../params.ts";

/** The metrics a matrix cell can show. */
const MATRIX_METRICS = ["check.rtt_ms", "check.loss_percent", "check.up"] as const;
type MatrixMetric = (typeof MATRIX_METRICS)[number];
/** The agent-mesh checks' names (server/agent-config/mesh.ts): `mesh:<agent_id>` (icmp) and `mesh-tcp:<agent_id>` probe that agent. */
const MESH_PREFIXES = ["mesh:", "mesh-tcp:"];

/** Every (source agent, check) pair's latest value of one check metric. */
export function reachabilityRouter(deps: Pick<HttpDeps, "control" | "window">): Router {
  const router = new Router();

  /**
   * @openapi
   * /v1/reachability/matrix:
   *   get:
   *     summary: The latest value of one check metric for every (source agent, target) pair.
   *     description: "One cell per agent and check it runs: the check's `target` label, its name, and for a mesh check (named `mesh:<agent_id>` or `mesh-tcp:<agent_id>`) the agent it probes as `target_agent`. Values are the agent-window's latest (what /v1/agents/{id}/latest shows), so the matrix costs one in-memory lookup per agent."
   *     tags: [checks]
   *     parameters:
   *       - { name: metric, in: query, required: false, description: "check.rtt_ms (default), check.loss_percent or check.up", schema: { type: string, enum: [check.rtt_ms, check.loss_percent, check.up] } }
   *       - { name: agents, in: query, required: false, description: "comma-separated source agent id globs; default every agent", schema: { type: string } }
   *     responses:
   *       200: { description: "The cells, by source agent then check.", content: { application/json: { schema: { $ref: '#/components/schemas/ReachabilityMatrix' } } } }
   *       400: { description: An unknown metric or a malformed parameter; the message names it., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/reachability/matrix", async (ctx) => {
    const metric = queryParam(ctx.query, "metric") ?? "check.rtt_ms";
    if (!(MATRIX_METRICS as readonly string[]).includes(metric)) {
      throw badRequest("metric", `"${metric.slice(0, 60)}" is not a matrix metric; use one of ${MATRIX_METRICS.join(", ")}`);
    }
    const globs = listParam(queryParam(ctx.query, "agents"), "agents", ["*"], 100);
    const agents = selectAgents(deps.control.listAgents().map((a) => a.agent_id), globs);
    const latest = await Promise.all(agents.map((agentId) => deps.window.latest(agentId, metric)));
    const body: ReachabilityMatrix = {
      metric_name: metric as MatrixMetric,
      cells: latest.flatMap(({ agentId, values }) => values.flatMap((v) => {
        const check = v.labels.check;
        if (check === undefined) return [];
        const prefix = MESH_PREFIXES.find((p) => check.startsWith(p));
        const targetAgent = prefix ? check.slice(prefix.length) : undefined;
        return [{
          source_agent: agentId, check, type: v.labels.type ?? "", target: v.labels.target ?? "",
          ...(targetAgent ? { target_agent: targetAgent } : {}), value: v.value, timestamp_ms: v.timestamp,
        }];
      }).sort((a, b) => (a.check < b.check ? -1 : a.check > b.check ? 1 : 0))),
    };
    ctx.body = body;
  });

  return router;
}
