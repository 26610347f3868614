import { createReadStream } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Router } from "@koa/router";
import { TsmonError } from "../../../common/errors.ts";

// Swagger UI from the npm package, no CDN. Only these files are served (no path walking).
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css",
  "swagger-ui-bundle.js": "application/javascript",
  "swagger-ui-standalone-preset.js": "application/javascript",
  "favicon-32x32.png": "image/png",
};

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tsmon API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"><link rel="icon" href="/docs/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script></body></html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: "/v1/openapi.json", dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout" });`;

export function docsRouter(): Router {
  const router = new Router();
  const dir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

  /**
   * @openapi
   * /docs:
   *   get:
   *     summary: Swagger UI for this API.
   *     tags: [system]
   *     security: []
   *     responses:
   *       200: { description: HTML page., content: { text/html: { schema: { type: string } } } }
   */
  router.get("/docs", (ctx) => {
    ctx.type = "text/html";
    ctx.body = PAGE;
  });

  /**
   * @openapi
   * /docs/{file}:
   *   get:
   *     summary: Swagger UI's assets.
   *     tags: [system]
   *     security: []
   *     parameters:
   *       - { name: file, in: path, required: true, schema: { type: string } }
   *     responses:
   *       200: { description: The asset. }
   *       404: { description: No such asset., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/docs/:file", (ctx) => {
    const file = ctx.params.file!;
    if (file === "init.js") {
      ctx.type = "application/javascript";
      ctx.body = INIT;
      return;
    }
    const type = ASSETS[file];
    if (!type) throw new TsmonError("NOT_FOUND", `no documentation asset '${file}'`);
    ctx.type = type;
    ctx.set("Cache-Control", "public, max-age=86400");
    ctx.body = createReadStream(path.join(dir, file));
  });

  return router;
}
