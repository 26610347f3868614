import { randomUUID } from "node:crypto";
import { Router } from "@koa/router";
import { TsmonError } from "../../../common/errors.ts";
import { describeIdentity } from "../../auth/roles.ts";
import type { AlertSilence } from "../../notify/alert-silences.ts";
import { identityOf } from "../access.ts";
import { readJsonBody } from "../body.ts";
import type { HttpDeps } from "../context.ts";
import { badRequest } from "../errors.ts";
import { AlertSilenceInput } from "../openapi/silence-schemas.ts";
import { parseBody } from "../parse-body.ts";

/** Silences that ended this long ago are deleted when the next one is added. */
const KEEP_ENDED_MS = 7 * 86_400_000;
/** At most this many silences at once: each is checked against every notification. */
const MAX_SILENCES = 1_000;

const out = (s: AlertSilence) => ({ ...s, ends_at: new Date(s.ends_at).toISOString(), created_at: new Date(s.created_at).toISOString() });

/**
 * Silencing some alerts (a rule, an agent, or one rule on one agent) for a while: their
 * notifications are dropped until it ends. Silence windows (/v1/notifications/silences)
 * hold every notification during a time of day instead.
 */
export function alertSilencesRouter(deps: Pick<HttpDeps, "config" | "control" | "now">): Router {
  const router = new Router();
  const store = () => deps.control.notify;

  /**
   * @openapi
   * /v1/alerts/silences:
   *   get:
   *     summary: Alert silences in force (add `all=true` for those ended in the last 7 days too).
   *     tags: [alerts]
   *     parameters: [{ name: all, in: query, required: false, schema: { type: boolean } }]
   *     responses:
   *       200: { description: "Silences, the one ending last first.", content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/AlertSilence' } } } } }
   *   post:
   *     summary: Silence the notifications of some alerts for a while.
   *     description: "Give `episode_id` (a firing alert: its rule on its agent), or `rule_id` and/or `agent_id`. Notifications of matching alerts, firing or resolved, are dropped until the silence ends (the delivery log says so); alerts still fire and show in `/v1/alerts/active`."
   *     tags: [alerts]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/AlertSilenceInput' } } } }
   *     responses:
   *       201: { description: Silenced., content: { application/json: { schema: { $ref: '#/components/schemas/AlertSilence' } } } }
   *       400: { description: The body is invalid; the message names the field., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No alert fires with this episode_id., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/alerts/silences", (ctx) => {
    const now = deps.now();
    const all = ctx.query.all === "true";
    ctx.body = [...store().alertSilences.getRange({})].map(({ value }) => value)
      .filter((s) => s.ends_at > (all ? now - KEEP_ENDED_MS : now))
      .sort((a, b) => b.ends_at - a.ends_at)
      .map(out);
  });
  router.post("/v1/alerts/silences", async (ctx) => {
    const req = parseBody(AlertSilenceInput, await readJsonBody(ctx, deps.config.http.body_limit_bytes));
    let { rule_id, agent_id } = req;
    if (req.episode_id !== undefined) {
      const alert = deps.control.alerts.active().find((a) => a.episode_id === req.episode_id);
      if (!alert) throw new TsmonError("NOT_FOUND", `no alert fires with episode_id '${req.episode_id}'; it may have resolved (GET /v1/alerts/active lists the firing ones)`);
      if ((rule_id ?? alert.rule_id) !== alert.rule_id || (agent_id ?? alert.agent_id) !== alert.agent_id) {
        throw badRequest("episode_id", "names another rule or agent than rule_id / agent_id; give one or the other");
      }
      rule_id = alert.rule_id;
      agent_id = alert.agent_id;
    }
    if (rule_id === undefined && agent_id === undefined) throw badRequest("rule_id", "give episode_id, rule_id or agent_id: a silence of every alert is a silence window (/v1/notifications/silences)");
    const now = deps.now();
    const identity = identityOf(ctx);
    const silence: AlertSilence = {
      id: randomUUID(), ...(rule_id !== undefined && { rule_id }), ...(agent_id !== undefined && { agent_id }),
      ends_at: now + req.duration_secs * 1000, created_at: now,
      created_by: identity.kind === "user" ? identity.username : describeIdentity(identity), note: req.note,
    };
    const db = store().alertSilences;
    const full = await db.transaction(() => {
      const kept = [...db.getRange({})].filter(({ value }) => value.ends_at > now - KEEP_ENDED_MS);
      for (const { key, value } of db.getRange({})) if (value.ends_at <= now - KEEP_ENDED_MS) db.remove(key);
      if (kept.length >= MAX_SILENCES) return true;
      db.put(silence.id, silence);
      return false;
    });
    if (full) throw badRequest("duration_secs", `${MAX_SILENCES} silences exist already; end some (DELETE /v1/alerts/silences/:id) first`);
    await store().bumpVersion();
    ctx.status = 201;
    ctx.body = out(silence);
  });

  /**
   * @openapi
   * /v1/alerts/silences/{id}:
   *   delete:
   *     summary: End a silence now.
   *     tags: [alerts]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       204: { description: Ended (removed). }
   *       404: { description: No such silence., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.delete("/v1/alerts/silences/:id", async (ctx) => {
    const id = ctx.params.id!;
    if (!store().alertSilences.get(id)) throw new TsmonError("NOT_FOUND", `no alert silence '${id}' (GET /v1/alerts/silences lists them)`);
    await store().alertSilences.remove(id);
    await store().bumpVersion();
    ctx.status = 204;
  });

  return router;
}
