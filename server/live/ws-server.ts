import type http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "../log.ts";
import type { LiveHub } from "./hub.ts";
import { subscribeSchema } from "./protocol.ts";

const LIVE_PATHS = new Set(["/v1/live", "/api/v1/live"]);

/** Serves the live feed's WebSocket upgrades on the HTTP server. */
export function attachLiveFeed(server: http.Server, hub: LiveHub, log: Logger): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    if (!LIVE_PATHS.has(pathname)) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => connect(ws));
  });

  function connect(ws: WebSocket): void {
    const client = hub.add(ws);
    ws.on("error", (err) => log.debug({ err }, "live client socket error"));
    ws.on("message", (data, isBinary) => {
      let parsed: unknown;
      try {
        parsed = isBinary ? undefined : JSON.parse(data.toString());
      } catch {
        parsed = undefined;
      }
      const msg = subscribeSchema.safeParse(parsed);
      if (!msg.success) {
        const issue = msg.error.issues[0]!;
        const where = issue.path.length ? issue.path.join(".") : "message";
        hub.send(client, {
          type: "error", code: "INVALID_ARGUMENT",
          error: `${where}: ${issue.message}; send {"type":"subscribe","agents":["web-*"],"metrics":["cpu.*"]}`,
        });
        return;
      }
      hub.subscribe(client, msg.data.agents, msg.data.metrics, msg.data.alerts);
    });
  }

  return {
    close() {
      hub.closeAll();
      wss.close();
    },
  };
}
