import { session } from "./api.ts";

/*
 * The live feed (/v1/live): one WebSocket per page that needs it. Messages are queued and
 * handed over once per animation frame, so 1,000 agents reporting at once cost one batch
 * of work per frame, not one render per message. Reconnects with backoff.
 */
export interface LiveValue { metric: string; labels: Record<string, string>; value: number; timestamp_ms: number }
export interface LiveReport { type: "report"; agent_id: string; values: LiveValue[] }
export interface LiveAlert {
  type: "alert";
  event: { status: "firing" | "resolved"; agent_id: string; rule_id: string; rule_name?: string; metric: string; labels: Record<string, string>; severity: string; message: string };
}
export type LiveMessage = LiveReport | LiveAlert;

export interface LiveOptions { agents: string[]; metrics: string[]; onBatch: (batch: LiveMessage[]) => void; onState?: (connected: boolean) => void }

export function openLiveFeed(options: LiveOptions): { close(): void } {
  let ws: WebSocket | undefined;
  let closed = false;
  let retryMs = 500;
  let queue: LiveMessage[] = [];
  let frame = 0;

  const flush = () => {
    frame = 0;
    const batch = queue;
    queue = [];
    if (batch.length) options.onBatch(batch);
  };

  /** Also on <html data-live>, so a test (or a style) can tell when live data flows. */
  const setState = (subscribed: boolean) => {
    document.documentElement.dataset.live = subscribed ? "subscribed" : "closed";
    options.onState?.(subscribed);
  };

  const connect = () => {
    const s = session();
    if (closed || !s) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}/v1/live?access_token=${encodeURIComponent(s.token)}`);
    ws.onopen = () => {
      retryMs = 500;
      ws!.send(JSON.stringify({ type: "subscribe", agents: options.agents, metrics: options.metrics, alerts: true }));
    };
    ws.onmessage = (e) => {
      if (closed) return;
      const msg = JSON.parse(String(e.data)) as { type: string };
      if (msg.type === "subscribed") setState(true);
      if (msg.type !== "report" && msg.type !== "alert") return;
      queue.push(msg as LiveMessage);
      // A hidden tab gets no frames: flush on a timer there so the queue stays short.
      if (!frame) frame = document.hidden ? (setTimeout(flush, 1000) as unknown as number) : requestAnimationFrame(flush);
    };
    ws.onclose = () => {
      // A feed closed on purpose (the page left) leaves the state to the next page's feed.
      if (closed) return;
      setState(false);
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 15_000);
    };
    // An error is followed by close, which retries.
    ws.onerror = () => {};
  };
  connect();
  return {
    close() {
      closed = true;
      document.documentElement.dataset.live = "closed";
      if (frame) cancelAnimationFrame(frame);
      // Closing a socket still connecting makes Chromium log an error: close it once open.
      if (ws?.readyState === WebSocket.CONNECTING) ws.onopen = () => ws!.close();
      else ws?.close();
    },
  };
}
