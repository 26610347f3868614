import { Router } from "@koa/router";
import type { z } from "zod";
import { TsmonError } from "../../../common/errors.ts";
import { normalizeDomain } from "../../certs/domain-name.ts";
import { formatIssues } from "../../config/issues.ts";
import type { NewCertDomain } from "../../storage/cert-store.ts";
import { readJsonBody } from "../body.ts";
import { domainOut, findResult, statusOut } from "../cert-views.ts";
import type { HttpDeps } from "../context.ts";
import { badRequest } from "../errors.ts";
import { CertDomainBatchInput, CertDomainInput, CertDomainUpdate, type CertManualCheckOut } from "../openapi/cert-schemas.ts";
import { intParam, queryParam } from "../params.ts";

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new TsmonError("INVALID_ARGUMENT", formatIssues(parsed.error.issues).join("; "));
  return parsed.data;
}

/** Defaults filled and the name in its stored form; `field` names it in a 400. */
function newDomain(input: z.infer<typeof CertDomainInput>, field: string): NewCertDomain {
  const name = normalizeDomain(input.domain);
  if (!name.ok) throw badRequest(field, name.why);
  return { domain: name.ascii, port: input.port ?? 443, enabled: input.enabled ?? true, check_interval_secs: input.check_interval_secs ?? null, note: input.note ?? null };
}

export function certsRouter(deps: Pick<HttpDeps, "certs" | "config" | "now">): Router {
  const router = new Router();
  const store = () => deps.certs.store;
  const body = (ctx: Parameters<typeof readJsonBody>[0]) => readJsonBody(ctx, deps.config.http.body_limit_bytes);
  const out = (d: Parameters<typeof domainOut>[0]) => domainOut(d, store().result(d.id));

  /**
   * @openapi
   * /v1/certs/domains:
   *   post:
   *     summary: Monitor a domain's TLS certificate (IDN accepted, stored as punycode).
   *     tags: [certificates]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/CertDomainInput' } } } }
   *     responses:
   *       201: { description: Created; first checked at the next scheduler tick., content: { application/json: { schema: { $ref: '#/components/schemas/CertDomain' } } } }
   *       400: { description: An invalid field (named)., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       409: { description: This domain and port are already monitored., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       415: { description: The body is not JSON., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *   get:
   *     summary: Monitored domains, by name then port; the total before paging is in X-Total-Count.
   *     tags: [certificates]
   *     parameters:
   *       - { name: enabled, in: query, schema: { type: boolean } }
   *       - { name: search, in: query, description: substring of the domain or the note, schema: { type: string } }
   *       - { name: limit, in: query, schema: { type: integer, default: 100, maximum: 1000 } }
   *       - { name: offset, in: query, schema: { type: integer, default: 0 } }
   *     responses:
   *       200: { description: A page of domains., content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/CertDomain' } } } } }
   *       400: { description: A malformed parameter (named)., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/v1/certs/domains", async (ctx) => {
    const [created] = await store().add([newDomain(parse(CertDomainInput, await body(ctx)), "domain")], deps.now());
    ctx.status = 201;
    ctx.body = out(created!);
  });
  router.get("/v1/certs/domains", (ctx) => {
    const enabled = queryParam(ctx.query, "enabled");
    if (enabled !== undefined && enabled !== "true" && enabled !== "false") throw badRequest("enabled", "must be true or false");
    const page = store().query({
      enabled: enabled === undefined ? undefined : enabled === "true",
      search: queryParam(ctx.query, "search"),
      limit: intParam(queryParam(ctx.query, "limit"), "limit", 100, 1, 1000),
      offset: intParam(queryParam(ctx.query, "offset"), "offset", 0, 0, Number.MAX_SAFE_INTEGER),
    });
    ctx.set("X-Total-Count", String(page.total));
    ctx.body = page.domains.map(out);
  });

  /**
   * @openapi
   * /v1/certs/domains/batch:
   *   post:
   *     summary: Monitor several domains at once — all of them, or none when one is invalid or taken.
   *     tags: [certificates]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/CertDomainBatchInput' } } } }
   *     responses:
   *       201: { description: "Created, in the order given.", content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/CertDomain' } } } } }
   *       400: { description: "An invalid field, named by its place (domains.2.port).", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       409: { description: A domain and port already monitored (or given twice)., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/v1/certs/domains/batch", async (ctx) => {
    const input = parse(CertDomainBatchInput, await body(ctx));
    const items = input.domains.map((d, i) => newDomain(d, `domains.${i}.domain`));
    const created = await store().add(items, deps.now(), (i) => `domains.${i}`);
    ctx.status = 201;
    ctx.body = created.map(out);
  });

  /**
   * @openapi
   * /v1/certs/domains/{id}:
   *   put:
   *     summary: Change a domain's port, enabled flag, interval (null for the default) or note.
   *     tags: [certificates]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/CertDomainUpdate' } } } }
   *     responses:
   *       200: { description: Updated., content: { application/json: { schema: { $ref: '#/components/schemas/CertDomain' } } } }
   *       400: { description: An invalid field (named)., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No such domain., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       409: { description: The new port is already monitored for this domain., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *   delete:
   *     summary: Stop monitoring a domain; its check results go too.
   *     tags: [certificates]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       204: { description: Deleted. }
   *       404: { description: No such domain., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.put("/v1/certs/domains/:id", async (ctx) => {
    const patch = parse(CertDomainUpdate, await body(ctx));
    ctx.body = out(await store().update(ctx.params.id!, patch, deps.now()));
  });
  router.delete("/v1/certs/domains/:id", async (ctx) => {
    await store().remove(ctx.params.id!);
    ctx.status = 204;
  });

  /**
   * @openapi
   * /v1/certs/domains/{id}/check:
   *   post:
   *     summary: Check one domain now, in the process asked, and answer with the result.
   *     tags: [certificates]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       200: { description: "The result (a failed check is a result too: see error_class).", content: { application/json: { schema: { $ref: '#/components/schemas/CertCheckResult' } } } }
   *       404: { description: No such domain., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/v1/certs/domains/:id/check", async (ctx) => {
    ctx.body = statusOut(await deps.certs.checkById(ctx.params.id!));
  });

  /**
   * @openapi
   * /v1/certs/check:
   *   post:
   *     summary: Check every enabled domain now (bounded by max_concurrent) and answer when all are done.
   *     tags: [certificates]
   *     responses:
   *       200: { description: Every result., content: { application/json: { schema: { $ref: '#/components/schemas/CertManualCheck' } } } }
   */
  router.post("/v1/certs/check", async (ctx) => {
    const results = await deps.certs.checkAll();
    const reply: CertManualCheckOut = { checked: results.length, valid: results.filter((r) => r.is_valid).length, results: results.map(statusOut) };
    ctx.body = reply;
  });

  /**
   * @openapi
   * /v1/certs/status:
   *   get:
   *     summary: The latest check of every checked domain, by name then port.
   *     tags: [certificates]
   *     responses:
   *       200: { description: Results., content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/CertCheckResult' } } } } }
   */
  router.get("/v1/certs/status", (ctx) => {
    ctx.body = store().allResults().map(statusOut);
  });

  /**
   * @openapi
   * /v1/certs/status/{domain}:
   *   get:
   *     summary: The latest check of one domain (IDN or punycode), on `port`, else 443, else its lowest port.
   *     tags: [certificates]
   *     parameters:
   *       - { name: domain, in: path, required: true, schema: { type: string } }
   *       - { name: port, in: query, schema: { type: integer, minimum: 1, maximum: 65535 } }
   *     responses:
   *       200: { description: The result., content: { application/json: { schema: { $ref: '#/components/schemas/CertCheckResult' } } } }
   *       400: { description: "Not a domain name, or a bad port.", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: "Not monitored, or not checked yet.", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/certs/status/:domain", (ctx) => {
    ctx.body = statusOut(findResult(store(), ctx.params.domain!, queryParam(ctx.query, "port")));
  });

  return router;
}
