import type http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { toErrorData } from "../../common/errors.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import type { Logger } from "../log.ts";
import type { LiveHub } from "./hub.ts";
import { subscribeSchema } from "./protocol.ts";

// `/ws`: the seeds' name for the live feed.
const LIVE_PATHS = new Set(["/v1/live", "/api/v1/live", "/ws"]);

/** How often an open connection's credential is checked again (revoked, expired, user gone). */
const RECHECK_MS = 2_000;
/** Close code for a connection whose credential stopped being valid (4000–4999: application codes). */
export const CREDENTIAL_REVOKED = 4401;

/**
 * Serves the live feed's WebSocket upgrades on the HTTP server. The upgrade needs a viewer's
 * credential like any read: the Authorization header, or (browsers cannot set headers on a
 * WebSocket) `?access_token=<token>`. The credential is checked again every two seconds; a
 * connection whose token was revoked or expired is closed with code 4401.
 */
export function attachLiveFeed(server: http.Server, hub: LiveHub, auth: Authenticator, log: Logger): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const credentials = new Map<WebSocket, string>();

  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node drops its own error listener from an upgraded socket: a peer resetting it while
    // the credential is checked must not become an uncaught exception.
    const onError = (err: Error) => log.debug({ err }, "live upgrade socket error");
    socket.on("error", onError);
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!LIVE_PATHS.has(url.pathname)) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    const query = url.searchParams.get("access_token");
    const authorization = req.headers.authorization ?? (query ? `Bearer ${query}` : undefined);
    auth.authenticate(authorization).then(
      () => {
        if (socket.destroyed) return;
        socket.off("error", onError);
        wss.handleUpgrade(req, socket, head, (ws) => connect(ws, authorization!));
      },
      (err) => refuse(socket, err),
    );
  });

  const recheck = setInterval(() => {
    for (const [ws, authorization] of credentials) {
      auth.authenticate(authorization).catch((err) => ws.close(CREDENTIAL_REVOKED, toErrorData(err).message.slice(0, 120)));
    }
  }, RECHECK_MS).unref();

  function connect(ws: WebSocket, authorization: string): void {
    credentials.set(ws, authorization);
    ws.on("close", () => credentials.delete(ws));
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
      clearInterval(recheck);
      hub.closeAll();
      wss.close();
    },
  };
}

/** Answers a refused upgrade with 401 and the usual `{ error, code }` body, then closes. */
function refuse(socket: Duplex, err: unknown): void {
  if (socket.destroyed) return;
  const { code, message } = toErrorData(err);
  const body = JSON.stringify({ error: message, code });
  socket.end(`HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="tsmon"\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
