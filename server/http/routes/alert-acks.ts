import { Router } from "@koa/router";
import { TsmonError } from "../../../common/errors.ts";
import { describeIdentity } from "../../auth/roles.ts";
import { identityOf } from "../access.ts";
import { readJsonBody } from "../body.ts";
import type { HttpDeps } from "../context.ts";
import { parseBody } from "../parse-body.ts";
import { AlertAckRequest } from "../openapi/schemas.ts";
import { activeOut } from "./alerts.ts";

/**
 * Acknowledging a firing alert: "someone is on it", shown with the alert until its episode
 * ends. It changes no notification (silence windows and silence_secs do that).
 */
export function alertAcksRouter(deps: Pick<HttpDeps, "config" | "control" | "now">): Router {
  const router = new Router();
  const who = (identity: ReturnType<typeof identityOf>) => (identity.kind === "user" ? identity.username : describeIdentity(identity));

  /**
   * @openapi
   * /v1/alerts/active/ack:
   *   post:
   *     summary: Acknowledge a firing alert's episode (display only; notifications are unchanged).
   *     description: The acknowledgement shows in `GET /v1/alerts/active` (`acknowledged_by`, `acknowledged_at`, `ack_note`) until the episode resolves; the next episode starts unacknowledged.
   *     tags: [alerts]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/AlertAckRequest' } } } }
   *     responses:
   *       200: { description: The alert as now acknowledged., content: { application/json: { schema: { $ref: '#/components/schemas/ActiveAlert' } } } }
   *       400: { description: The body is invalid; the message names the field., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No alert fires with this episode_id (it may have resolved)., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/v1/alerts/active/ack", async (ctx) => {
    const req = parseBody(AlertAckRequest, await readJsonBody(ctx, deps.config.http.body_limit_bytes));
    const store = deps.control.alerts;
    const ack = { episode_id: req.episode_id, by: who(identityOf(ctx)), at: deps.now(), note: req.note };
    if (!(await store.acknowledge(ack))) throw new TsmonError("NOT_FOUND", `no alert fires with episode_id '${req.episode_id}'; it may have resolved (GET /v1/alerts/active lists the firing ones)`);
    ctx.body = activeOut(store.active().find((s) => s.episode_id === req.episode_id)!, ack);
  });

  /**
   * @openapi
   * /v1/alerts/active/ack/{episode_id}:
   *   delete:
   *     summary: Withdraw an acknowledgement.
   *     tags: [alerts]
   *     parameters: [{ name: episode_id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       204: { description: Withdrawn. }
   *       404: { description: This episode is not acknowledged., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.delete("/v1/alerts/active/ack/:episode_id", async (ctx) => {
    if (!(await deps.control.alerts.unacknowledge(ctx.params.episode_id!))) throw new TsmonError("NOT_FOUND", `episode '${ctx.params.episode_id}' is not acknowledged`);
    ctx.status = 204;
  });

  return router;
}
