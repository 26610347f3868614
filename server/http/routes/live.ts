import { Router } from "@koa/router";
import { TsmonError } from "../../../common/errors.ts";

export function liveRouter(): Router {
  const router = new Router();

  /**
   * @openapi
   * /v1/live:
   *   get:
   *     summary: Live feed (WebSocket) of ingested reports, filtered by agent and metric globs.
   *     description: |
   *       Upgrade with `Upgrade: websocket`. Send `{"type":"subscribe","agents":["web-*"],"metrics":["cpu.*"]}`;
   *       receive `{"type":"report","agent_id":...,"values":[{"metric","labels","value","timestamp_ms"}]}` per report.
   *       A slow reader is skipped and then told `{"type":"dropped","count":n,"total":m}`. See docs/api.md.
   *       The same feed answers at `/ws` (the seeds' name).
   *     tags: [live]
   *     responses:
   *       101: { description: Switching to the WebSocket protocol. }
   *       426: { description: Not a WebSocket upgrade., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/live", () => {
    throw new TsmonError("UPGRADE_REQUIRED", "GET /v1/live is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)");
  });

  return router;
}
