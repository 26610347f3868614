import WebSocket from "ws";
import { adminHeaders } from "../../scripts/lib/test-credentials.ts";

/** A live-feed client that records every message and can wait for one matching a predicate. */
export class LiveClient {
  readonly messages: any[] = [];
  private waiters: { match: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const msg = JSON.parse(data.toString());
      this.messages.push(msg);
      this.waiters = this.waiters.filter((w) => (w.match(msg) ? (w.resolve(msg), false) : true));
    });
  }

  /** Connects as the test admin unless other headers are given. */
  static async connect(url: string, headers?: Record<string, string>): Promise<LiveClient> {
    const sent = headers ?? await adminHeaders(url);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: sent });
      const client = new LiveClient(ws);
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
    });
  }

  /** The first message (already received or future) matching `match`. */
  next(match: (m: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching live message; got ${JSON.stringify(this.messages).slice(0, 400)}`)), timeoutMs);
      this.waiters.push({ match, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  close(): void {
    this.ws.close();
  }
}
