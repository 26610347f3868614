import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Router } from "@koa/router";
import { traceOnRequestDetail } from "../../../common/check-events.ts";
import { TsmonError } from "../../../common/errors.ts";
import { COMMAND_TTL_MS } from "../../agent-config/commands.ts";
import type { StoredTraceroute } from "../../storage/check-event-store.ts";
import type { HttpDeps } from "../context.ts";
import { queryParam } from "../params.ts";

/** How often the answer is looked for while the agent traces. */
const POLL_MS = 250;

/**
 * Tracing on demand: the agent is asked over its config stream (WatchAgentConfig) and the
 * answer is its traceroute event, stored like every other: the request waits for it.
 */
export function checkTraceRouter(deps: Pick<HttpDeps, "control" | "window" | "agentConfig" | "now">): Router {
  const router = new Router();

  /**
   * @openapi
   * /v1/checks/{id}/traceroute:
   *   post:
   *     summary: Ask an agent to trace the path to a check's host now, and answer with the path.
   *     description: "The agent must run the check (`id` is its name) and hold its config stream open (tsmon agents over gRPC do). The request waits for the traced path, at most 60 s; it is stored too (`GET /v1/traceroutes`)."
   *     tags: [checks]
   *     parameters:
   *       - { name: id, in: path, required: true, description: the check's name, schema: { type: string } }
   *       - { name: agent, in: query, required: true, description: the agent that traces, schema: { type: string } }
   *     responses:
   *       200: { description: The traced path., content: { application/json: { schema: { $ref: '#/components/schemas/TracerouteOut' } } } }
   *       400: { description: No agent given., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: "The agent never reported, or reports no such check.", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       504: { description: "The agent did not answer within 60 s (not connected, or on the HTTP transport).", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/v1/checks/:id/traceroute", async (ctx) => {
    const check = ctx.params.id!;
    const agentId = queryParam(ctx.query, "agent", true);
    if (!deps.control.getAgent(agentId)) throw new TsmonError("NOT_FOUND", `agent '${agentId}' has never reported`);
    const { values } = await deps.window.latest(agentId, "check.up");
    if (!values.some((v) => v.labels.check === check)) {
      throw new TsmonError("NOT_FOUND", `agent '${agentId}' reports no check named '${check}' (GET /v1/agents/${agentId}/latest lists its check.* values)`);
    }
    const commands = deps.agentConfig.commands;
    if (!commands) throw new TsmonError("UNAVAILABLE", "this server keeps no agent commands");
    const askedAt = deps.now();
    const id = randomUUID();
    await commands.add({ id, agent_id: agentId, kind: "traceroute", args: { check }, created_at: askedAt });
    deps.agentConfig.hub.changed();
    const path = await answer(deps, { agentId, check, id, askedAt });
    if (!path) throw new TsmonError("DEADLINE_EXCEEDED", `agent '${agentId}' sent no traced path within ${COMMAND_TTL_MS / 1000} s: it may not be connected, or it reports over HTTP (no config stream)`);
    ctx.body = path;
  });

  return router;
}

/** The agent's traceroute event for command `id`, once stored; undefined after the command's time to live. */
async function answer(deps: Pick<HttpDeps, "control" | "now">, q: { agentId: string; check: string; id: string; askedAt: number }): Promise<StoredTraceroute | undefined> {
  const detail = traceOnRequestDetail(q.id);
  // The agent stamps the path with its own clock: look a minute either side of ours.
  while (deps.now() - q.askedAt < COMMAND_TTL_MS) {
    deps.control.env.resetReadTxn();
    const found = deps.control.checkEvents.traceroutes({ fromMs: q.askedAt - 60_000, toMs: deps.now() + 60_000, agentId: q.agentId, check: q.check, limit: 20 })
      .find((t) => t.detail === detail);
    if (found) return found;
    await sleep(POLL_MS);
  }
  return undefined;
}
