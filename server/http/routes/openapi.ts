import { Router } from "@koa/router";
import { stringify } from "yaml";
import { openApiSpec } from "../openapi/spec.ts";

export function openApiRouter(): Router {
  const router = new Router();

  /**
   * @openapi
   * /v1/openapi.json:
   *   get:
   *     summary: This API's OpenAPI 3 document, as JSON.
   *     tags: [system]
   *     security: []
   *     responses:
   *       200: { description: The document., content: { application/json: { schema: { type: object } } } }
   */
  router.get("/v1/openapi.json", (ctx) => {
    ctx.body = openApiSpec();
  });

  /**
   * @openapi
   * /v1/openapi.yaml:
   *   get:
   *     summary: This API's OpenAPI 3 document, as YAML.
   *     tags: [system]
   *     security: []
   *     responses:
   *       200: { description: The document., content: { application/yaml: { schema: { type: string } } } }
   */
  router.get("/v1/openapi.yaml", (ctx) => {
    ctx.type = "application/yaml";
    ctx.body = stringify(openApiSpec());
  });

  return router;
}
