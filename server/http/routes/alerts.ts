import { Router } from "@koa/router";
import { TsmonError } from "../../../common/errors.ts";
import { anyGlob } from "../../../common/glob.ts";
import { backtest } from "../../alerts/backtest.ts";
import type { AlertState } from "../../alerts/alert-state.ts";
import type { AlertAck } from "../../storage/alert-store.ts";
import type { AlertEvent, AlertRule } from "../../alerts/types.ts";
import { alertRuleSchema } from "../../config/schema.ts";
import { ruleIssues } from "../../alerts/conditions/registry.ts";
import { DAY_MS } from "../../storage/days.ts";
import { readJsonBody } from "../body.ts";
import { parseBody } from "../parse-body.ts";
import type { HttpDeps } from "../context.ts";
import { badRequest } from "../errors.ts";
import { BacktestRequest, type ActiveAlert, type AlertEventOut, type AlertHistory, type AlertRuleOut, type BacktestResult } from "../openapi/schemas.ts";
import { intParam, parseTime, queryParam } from "../params.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function ruleOut(rule: AlertRule): AlertRuleOut {
  return { ...rule, read_only: rule.source === "config" } as AlertRuleOut;
}

export function eventOut(e: AlertEvent): AlertEventOut {
  return { ...e, fired_at: iso(e.fired_at), resolved_at: isoOrNull(e.resolved_at), predicted_at: isoOrNull(e.predicted_at) };
}

export function activeOut(s: AlertState, ack?: AlertAck): ActiveAlert {
  return {
    rule_id: s.rule_id, agent_id: s.agent_id, metric: s.metric, labels: s.labels, severity: s.severity,
    value: s.value, threshold: s.threshold, message: s.message, since: isoOrNull(s.since), fired_at: iso(s.fired_at!),
    silenced: s.silenced, predicted_at: isoOrNull(s.predicted_at), episode_id: s.episode_id,
    acknowledged_by: ack?.by ?? null, acknowledged_at: ack ? iso(ack.at) : null, ack_note: ack?.note ?? null,
  };
}

/** Validates a rule body, naming every invalid field; `id`, `source`, `read_only` from a GET are ignored. */
function parseRule(body: unknown, keepId: boolean) {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("body", "expected a JSON object (an alert rule)");
  const { source: _s, read_only: _r, ...fields } = body as Record<string, unknown>;
  if (!keepId) delete fields.id;
  const rule = parseBody(alertRuleSchema, fields);
  const issues = ruleIssues(rule);
  if (issues.length) throw new TsmonError("INVALID_ARGUMENT", issues.map((i) => `${i.field}: ${i.message}`).join("; "));
  return rule;
}

export function alertsRouter(deps: Pick<HttpDeps, "alerts" | "config" | "control" | "store">): Router {
  const router = new Router();
  const book = () => deps.alerts.rules;

  /**
   * @openapi
   * /v1/alerts/rules:
   *   get:
   *     summary: Every alert rule, from server.toml (read-only) and from the API.
   *     tags: [alerts]
   *     responses:
   *       200: { description: Rules., content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/AlertRule' } } } } }
   *   post:
   *     summary: Create a rule (reference syntax); 400 names every invalid field.
   *     tags: [alerts]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/AlertRuleInput' } } } }
   *     responses:
   *       201: { description: Created., content: { application/json: { schema: { $ref: '#/components/schemas/AlertRule' } } } }
   *       400: { description: Invalid rule., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       409: { description: A rule with this id exists., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/alerts/rules", (ctx) => {
    ctx.body = book().all().map(ruleOut);
  });
  router.post("/v1/alerts/rules", async (ctx) => {
    const rule = await book().create(parseRule(await readJsonBody(ctx, deps.config.http.body_limit_bytes), true));
    await deps.alerts.syncRules();
    ctx.status = 201;
    ctx.body = ruleOut(rule);
  });

  /**
   * @openapi
   * /v1/alerts/rules/test:
   *   post:
   *     summary: Backtest — the episodes a rule (existing or inline) would have produced over stored history.
   *     description: Runs the live evaluator's own rule and lifecycle code over the range (at most 31 days), for every agent matching the pattern.
   *     tags: [alerts]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/BacktestRequest' } } } }
   *     responses:
   *       200: { description: "Episodes, oldest first.", content: { application/json: { schema: { $ref: '#/components/schemas/BacktestResult' } } } }
   *       400: { description: Invalid request or rule., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No such rule., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/v1/alerts/rules/test", async (ctx) => {
    const req = parseBody(BacktestRequest, await readJsonBody(ctx, deps.config.http.body_limit_bytes));
    let rule: AlertRule;
    if (req.rule_id !== undefined) {
      rule = book().get(req.rule_id) ?? (() => { throw new TsmonError("NOT_FOUND", `no alert rule '${req.rule_id}'`); })();
    } else if (req.rule) {
      rule = { ...parseRule(req.rule, false), id: "backtest", source: "api" } as AlertRule;
    } else {
      throw badRequest("rule_id", "give rule_id (an existing rule) or rule (an inline rule)");
    }
    if (req.agent_pattern) rule = { ...rule, agent_pattern: req.agent_pattern };
    const from = parseTime("from", String(req.from));
    const to = parseTime("to", String(req.to));
    if (to < from) throw badRequest("to", "must not be before from");
    if (to - from > 31 * DAY_MS) throw badRequest("to", "the range may span at most 31 days");
    const agents = deps.control.listAgents().map((a) => a.agent_id);
    const episodes = backtest({ rule, agents, fromMs: from, toMs: to, readHistory: (a, f, t) => deps.store.scan(a, f, t) });
    const body: BacktestResult = {
      rule: ruleOut(rule),
      agents: agents.filter(anyGlob([rule.agent_pattern])).length,
      episodes: episodes.map((e) => ({ ...e, fired_at: iso(e.fired_at), resolved_at: isoOrNull(e.resolved_at), predicted_at: isoOrNull(e.predicted_at) })),
    };
    ctx.body = body;
  });

  /**
   * @openapi
   * /v1/alerts/rules/{id}:
   *   get:
   *     summary: One rule.
   *     tags: [alerts]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       200: { description: The rule., content: { application/json: { schema: { $ref: '#/components/schemas/AlertRule' } } } }
   *       404: { description: No such rule., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *   put:
   *     summary: Replace an API rule (its alerts start afresh).
   *     tags: [alerts]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/AlertRuleInput' } } } }
   *     responses:
   *       200: { description: Replaced., content: { application/json: { schema: { $ref: '#/components/schemas/AlertRule' } } } }
   *       400: { description: Invalid rule., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       403: { description: The rule comes from server.toml., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No such rule., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *   delete:
   *     summary: Delete an API rule and the state of its alerts (history stays).
   *     tags: [alerts]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       204: { description: Deleted. }
   *       403: { description: The rule comes from server.toml., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No such rule., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/alerts/rules/:id", (ctx) => {
    const rule = book().get(ctx.params.id!);
    if (!rule) throw new TsmonError("NOT_FOUND", `no alert rule '${ctx.params.id}'`);
    ctx.body = ruleOut(rule);
  });
  router.put("/v1/alerts/rules/:id", async (ctx) => {
    const rule = await book().replace(ctx.params.id!, parseRule(await readJsonBody(ctx, deps.config.http.body_limit_bytes), false));
    await deps.alerts.syncRules();
    ctx.body = ruleOut(rule);
  });
  router.delete("/v1/alerts/rules/:id", async (ctx) => {
    await book().remove(ctx.params.id!);
    await deps.alerts.syncRules();
    ctx.status = 204;
  });

  /**
   * @openapi
   * /v1/alerts/active:
   *   get:
   *     summary: Alerts firing now, newest first.
   *     description: Also answers as `GET /api/v1/alerts` (the seeds' name).
   *     tags: [alerts]
   *     responses:
   *       200: { description: Firing alerts., content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/ActiveAlert' } } } } }
   */
  router.get("/v1/alerts/active", (ctx) => {
    const store = deps.control.alerts;
    ctx.body = store.active().map((s) => activeOut(s, s.episode_id ? store.acks.get(s.episode_id) : undefined));
  });

  /**
   * @openapi
   * /v1/alerts/history:
   *   get:
   *     summary: Firing and resolved events, newest first, with the total count.
   *     tags: [alerts]
   *     parameters:
   *       - { name: severity, in: query, schema: { type: string, enum: [info, warning, critical] } }
   *       - { name: agent, in: query, schema: { type: string } }
   *       - { name: rule, in: query, description: rule id or name, schema: { type: string } }
   *       - { name: status, in: query, schema: { type: string, enum: [firing, resolved] } }
   *       - { name: from, in: query, description: ISO 8601 or epoch ms, schema: { type: string } }
   *       - { name: to, in: query, description: ISO 8601 or epoch ms, schema: { type: string } }
   *       - { name: limit, in: query, schema: { type: integer, default: 100, maximum: 1000 } }
   *       - { name: offset, in: query, schema: { type: integer, default: 0 } }
   *     responses:
   *       200: { description: A page of events., content: { application/json: { schema: { $ref: '#/components/schemas/AlertHistory' } } } }
   *       400: { description: A parameter is malformed., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/alerts/history", (ctx) => {
    const q = ctx.query;
    const severity = queryParam(q, "severity");
    if (severity && !["info", "warning", "critical"].includes(severity)) throw badRequest("severity", "one of info, warning, critical");
    const status = queryParam(q, "status");
    if (status && status !== "firing" && status !== "resolved") throw badRequest("status", "one of firing, resolved");
    const from = queryParam(q, "from"), to = queryParam(q, "to");
    const limit = intParam(queryParam(q, "limit"), "limit", 100, 1, 1000);
    const offset = intParam(queryParam(q, "offset"), "offset", 0, 0, Number.MAX_SAFE_INTEGER);
    const result = deps.control.alerts.queryHistory({
      severity, agent: queryParam(q, "agent"), rule: queryParam(q, "rule"), status: status as "firing" | "resolved" | undefined,
      from: from === undefined ? undefined : parseTime("from", from), to: to === undefined ? undefined : parseTime("to", to), limit, offset,
    });
    const body: AlertHistory = { total: result.total, limit, offset, events: result.events.map(eventOut) };
    ctx.body = body;
  });

  return router;
}
