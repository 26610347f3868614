import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received { method: string; path: string; headers: http.IncomingHttpHeaders; body: any }

/**
 * A real HTTP receiver on loopback for channel tests: records every request (JSON bodies
 * parsed) and answers from a script of replies (then 200 `{}`); can stop and come back on
 * the same port to play a channel outage.
 */
export class HttpReceiver {
  readonly requests: Received[] = [];
  replies: { status: number; body?: unknown }[] = [];
  private server?: http.Server;
  port = 0;

  static async start(): Promise<HttpReceiver> {
    const r = new HttpReceiver();
    await r.listen();
    return r;
  }

  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async listen(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let text = "";
      req.on("data", (c) => (text += c));
      req.on("end", () => {
        let body: unknown = text;
        try { body = JSON.parse(text); } catch { /* not JSON */ }
        this.requests.push({ method: req.method!, path: req.url!, headers: req.headers, body });
        const reply = this.replies.shift() ?? { status: 200, body: {} };
        res.writeHead(reply.status, { "content-type": "application/json" });
        res.end(JSON.stringify(reply.body ?? {}));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); });
  }
}
