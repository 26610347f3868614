import { Router } from "@koa/router";
import { TsmonError } from "../../../common/errors.ts";
import { channelSchema, type ChannelConfig } from "../../config/schema.ts";
import { CHANNEL_PLUGINS, redactSecrets } from "../../notify/channels/registry.ts";
import { silenceWindowProblems } from "../../notify/silence-check.ts";
import { readJsonBody } from "../body.ts";
import { parseBody } from "../parse-body.ts";
import type { HttpDeps } from "../context.ts";
import { badRequest } from "../errors.ts";
import { silenceInputSchema } from "../openapi/schemas.ts";
import { intParam, parseTime, queryParam } from "../params.ts";

const LOG_STATUSES = ["sent", "retry", "failed", "expired", "held", "suppressed"];

export function notificationsRouter(deps: Pick<HttpDeps, "channels" | "config" | "control" | "notifier">): Router {
  const router = new Router();
  const book = () => deps.channels;
  const limit = () => deps.config.http.body_limit_bytes;

  /**
   * @openapi
   * /v1/notifications/channels:
   *   get:
   *     summary: Every notification channel (secrets masked).
   *     tags: [notifications]
   *     responses:
   *       200: { description: Channels., content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/NotificationChannel' } } } } }
   *   post:
   *     summary: Add a channel; its type's plugin validates the table (400 names each field).
   *     tags: [notifications]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/NotificationChannelInput' } } } }
   *     responses:
   *       201: { description: Created., content: { application/json: { schema: { $ref: '#/components/schemas/NotificationChannel' } } } }
   *       400: { description: Invalid channel., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       409: { description: A channel with this id exists., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/notifications/channels", (ctx) => {
    ctx.body = book().channels().map((c) => redactSecrets(c));
  });
  router.post("/v1/notifications/channels", async (ctx) => {
    const table = parseBody(channelSchema, stripReadOnly(await readJsonBody(ctx, limit()))) as ChannelConfig;
    const saved = await book().saveChannel(table);
    ctx.status = 201;
    ctx.body = redactSecrets({ ...saved, read_only: false });
  });

  /**
   * @openapi
   * /v1/notifications/channels/{id}:
   *   get:
   *     summary: One channel (secrets masked).
   *     tags: [notifications]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       200: { description: The channel., content: { application/json: { schema: { $ref: '#/components/schemas/NotificationChannel' } } } }
   *       404: { description: No such channel., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *   put:
   *     summary: Replace an API channel; a secret sent back as "***" keeps its stored value.
   *     tags: [notifications]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/NotificationChannelInput' } } } }
   *     responses:
   *       200: { description: Replaced., content: { application/json: { schema: { $ref: '#/components/schemas/NotificationChannel' } } } }
   *       400: { description: Invalid channel., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       403: { description: The channel comes from server.toml., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No such channel., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *   delete:
   *     summary: Remove an API channel (its pending deliveries are logged as failed).
   *     tags: [notifications]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       204: { description: Removed. }
   *       403: { description: The channel comes from server.toml., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No such channel., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/notifications/channels/:id", (ctx) => {
    const channel = book().channel(ctx.params.id!);
    if (!channel) throw new TsmonError("NOT_FOUND", `no channel '${ctx.params.id}'`);
    ctx.body = redactSecrets(channel);
  });
  router.put("/v1/notifications/channels/:id", async (ctx) => {
    const id = ctx.params.id!;
    const current = book().channel(id);
    const body = stripReadOnly(await readJsonBody(ctx, limit())) as Record<string, unknown>;
    // A secret sent back masked, as GET shows it, keeps its stored value.
    if (current && body.type === current.type) {
      for (const k of CHANNEL_PLUGINS[current.type].secrets) if (body[k] === "***") body[k] = (current as Record<string, unknown>)[k];
    }
    const table = parseBody(channelSchema, { ...body, id }) as ChannelConfig;
    const saved = await book().saveChannel(table, id);
    ctx.body = redactSecrets({ ...saved, read_only: false });
  });
  router.delete("/v1/notifications/channels/:id", async (ctx) => {
    await book().removeChannel(ctx.params.id!);
    ctx.status = 204;
  });

  /**
   * @openapi
   * /v1/notifications/channels/{id}/test:
   *   post:
   *     summary: Send a test message through a channel now; returns the channel's answer.
   *     tags: [notifications]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       200: { description: What the channel answered (ok or not)., content: { application/json: { schema: { $ref: '#/components/schemas/ChannelTestResult' } } } }
   *       404: { description: No such channel., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/v1/notifications/channels/:id/test", async (ctx) => {
    if (!book().channel(ctx.params.id!)) throw new TsmonError("NOT_FOUND", `no channel '${ctx.params.id}'`);
    const result = await deps.notifier.test(ctx.params.id!);
    if (!result) throw new TsmonError("NOT_FOUND", `no channel '${ctx.params.id}'`);
    ctx.body = result;
  });

  /**
   * @openapi
   * /v1/notifications/log:
   *   get:
   *     summary: Delivery log, newest first, with the total count.
   *     tags: [notifications]
   *     parameters:
   *       - { name: channel, in: query, schema: { type: string } }
   *       - { name: status, in: query, schema: { type: string, enum: [sent, retry, failed, expired, held, suppressed] } }
   *       - { name: from, in: query, description: ISO 8601 or epoch ms, schema: { type: string } }
   *       - { name: to, in: query, description: ISO 8601 or epoch ms, schema: { type: string } }
   *       - { name: limit, in: query, schema: { type: integer, default: 100, maximum: 1000 } }
   *       - { name: offset, in: query, schema: { type: integer, default: 0 } }
   *     responses:
   *       200: { description: A page of log entries., content: { application/json: { schema: { $ref: '#/components/schemas/NotificationLog' } } } }
   *       400: { description: A parameter is malformed., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/notifications/log", (ctx) => {
    const q = ctx.query;
    const status = queryParam(q, "status");
    if (status && !LOG_STATUSES.includes(status)) throw badRequest("status", `one of ${LOG_STATUSES.join(", ")}`);
    const from = queryParam(q, "from"), to = queryParam(q, "to");
    const lim = intParam(queryParam(q, "limit"), "limit", 100, 1, 1000);
    const offset = intParam(queryParam(q, "offset"), "offset", 0, 0, Number.MAX_SAFE_INTEGER);
    const result = deps.control.notify.queryLog({
      channel: queryParam(q, "channel"), status, limit: lim, offset,
      from: from === undefined ? undefined : parseTime("from", from), to: to === undefined ? undefined : parseTime("to", to),
    });
    ctx.body = { total: result.total, limit: lim, offset, entries: result.entries.map((e) => ({ ...e, ts: new Date(e.ts).toISOString() })) };
  });

  /**
   * @openapi
   * /v1/notifications/silences:
   *   get:
   *     summary: Silence windows (maintenance windows during which nothing is sent).
   *     tags: [notifications]
   *     responses:
   *       200: { description: Windows., content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/SilenceWindow' } } } } }
   *   post:
   *     summary: Add a silence window.
   *     tags: [notifications]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/SilenceWindowInput' } } } }
   *     responses:
   *       201: { description: Created., content: { application/json: { schema: { $ref: '#/components/schemas/SilenceWindow' } } } }
   *       400: { description: Invalid window., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/notifications/silences", (ctx) => {
    ctx.body = book().silences();
  });
  router.post("/v1/notifications/silences", async (ctx) => {
    const saved = await book().saveSilence(checkSilence(parseBody(silenceInputSchema, stripReadOnly(await readJsonBody(ctx, limit())))));
    ctx.status = 201;
    ctx.body = { ...saved, read_only: false };
  });

  /**
   * @openapi
   * /v1/notifications/silences/{id}:
   *   put:
   *     summary: Replace an API silence window.
   *     tags: [notifications]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/SilenceWindowInput' } } } }
   *     responses:
   *       200: { description: Replaced., content: { application/json: { schema: { $ref: '#/components/schemas/SilenceWindow' } } } }
   *       400: { description: Invalid window., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       403: { description: The window comes from server.toml., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No such window., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *   delete:
   *     summary: Remove an API silence window.
   *     tags: [notifications]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       204: { description: Removed. }
   *       403: { description: The window comes from server.toml., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No such window., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.put("/v1/notifications/silences/:id", async (ctx) => {
    const saved = await book().saveSilence(checkSilence(parseBody(silenceInputSchema, stripReadOnly(await readJsonBody(ctx, limit())))), ctx.params.id!);
    ctx.body = { ...saved, read_only: false };
  });
  router.delete("/v1/notifications/silences/:id", async (ctx) => {
    await book().removeSilence(ctx.params.id!);
    ctx.status = 204;
  });

  return router;
}

/** Bodies copied from a GET carry `read_only` (and `id`); they are not fields of the table. */
function stripReadOnly(body: unknown): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  const { read_only: _r, ...rest } = body as Record<string, unknown>;
  return rest;
}

/** Refuses a window start-up would refuse (see silenceWindowProblems). */
function checkSilence<T extends { recurrence: string; days?: string[]; date?: string; timezone: string }>(w: T): T {
  const [problem] = silenceWindowProblems(w);
  if (problem) throw badRequest(problem.field, problem.message);
  return w;
}
