import { isIP } from "node:net";
import { Router } from "@koa/router";
import { chainOut, detailsOut, findCertificate, hasCertificate } from "../cert-views.ts";
import type { HttpDeps } from "../context.ts";
import { badRequest } from "../errors.ts";
import { intParam, queryParam } from "../params.ts";

const DAY_MS = 86_400_000;

export function certificatesRouter(deps: Pick<HttpDeps, "certs" | "now">): Router {
  const router = new Router();
  const store = () => deps.certs.store;

  /**
   * @openapi
   * /v1/certificates:
   *   get:
   *     summary: Details of every certificate obtained by the latest checks, soonest expiry first; the total before paging is in X-Total-Count.
   *     tags: [certificates]
   *     parameters:
   *       - { name: expiring_within_days, in: query, description: "not_after within this many days (expired ones included)", schema: { type: integer, minimum: 0 } }
   *       - { name: ip_address, in: query, description: one of the addresses the domain resolved to, schema: { type: string } }
   *       - { name: issuer, in: query, description: "substring of the issuer's CN or O, any case", schema: { type: string } }
   *       - { name: limit, in: query, schema: { type: integer, default: 100, maximum: 1000 } }
   *       - { name: offset, in: query, schema: { type: integer, default: 0 } }
   *     responses:
   *       200: { description: A page of certificates., content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/CertificateDetails' } } } } }
   *       400: { description: A malformed parameter (named)., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/certificates", (ctx) => {
    const q = ctx.query;
    const within = queryParam(q, "expiring_within_days");
    const days = within === undefined ? undefined : intParam(within, "expiring_within_days", 0, 0, 100_000);
    const ip = queryParam(q, "ip_address");
    if (ip !== undefined && !isIP(ip)) throw badRequest("ip_address", `"${ip.slice(0, 60)}" is not an IPv4 or IPv6 address`);
    const issuer = queryParam(q, "issuer")?.toLowerCase();
    const limit = intParam(queryParam(q, "limit"), "limit", 100, 1, 1000);
    const offset = intParam(queryParam(q, "offset"), "offset", 0, 0, Number.MAX_SAFE_INTEGER);
    const horizon = days === undefined ? Infinity : deps.now() + days * DAY_MS;
    const matching = store().allResults().filter(hasCertificate).filter((r) =>
      r.certificate.not_after <= horizon &&
      (ip === undefined || r.resolved_ips.includes(ip)) &&
      (issuer === undefined || [r.certificate.issuer_cn, r.certificate.issuer_o].some((v) => v?.toLowerCase().includes(issuer))))
      .sort((a, b) => a.certificate.not_after - b.certificate.not_after);
    ctx.set("X-Total-Count", String(matching.length));
    ctx.body = matching.slice(offset, offset + limit).map(detailsOut);
  });

  /**
   * @openapi
   * /v1/certificates/{domain}:
   *   get:
   *     summary: The certificate a domain (IDN or punycode) presented at its latest check, on `port`, else 443, else its lowest port.
   *     tags: [certificates]
   *     parameters:
   *       - { name: domain, in: path, required: true, schema: { type: string } }
   *       - { name: port, in: query, schema: { type: integer, minimum: 1, maximum: 65535 } }
   *     responses:
   *       200: { description: The details., content: { application/json: { schema: { $ref: '#/components/schemas/CertificateDetails' } } } }
   *       400: { description: "Not a domain name, or a bad port.", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: "Not monitored, not checked yet, or no certificate obtained.", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/certificates/:domain", (ctx) => {
    ctx.body = detailsOut(findCertificate(store(), ctx.params.domain!, queryParam(ctx.query, "port")));
  });

  /**
   * @openapi
   * /v1/certificates/{domain}/chain:
   *   get:
   *     summary: "The chain a domain presented, leaf first: each certificate's subject, issuer and validity, and the verdict."
   *     tags: [certificates]
   *     parameters:
   *       - { name: domain, in: path, required: true, schema: { type: string } }
   *       - { name: port, in: query, schema: { type: integer, minimum: 1, maximum: 65535 } }
   *     responses:
   *       200: { description: The chain., content: { application/json: { schema: { $ref: '#/components/schemas/CertificateChain' } } } }
   *       400: { description: "Not a domain name, or a bad port.", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: "Not monitored, not checked yet, or no certificate obtained.", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/certificates/:domain/chain", (ctx) => {
    ctx.body = chainOut(findCertificate(store(), ctx.params.domain!, queryParam(ctx.query, "port")));
  });

  return router;
}
