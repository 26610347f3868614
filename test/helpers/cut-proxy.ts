import net from "node:net";

/*
 * A TCP proxy between an agent and a server that can lose an acknowledgement on the wire:
 * once armed, it forwards the agent's next report to the server as usual, then drops the
 * connection when the server's answer to it comes back, without passing the answer on.
 * The server has stored the report (it answers only after a durable write); the agent has
 * not heard so, and sends it again.
 *
 * - "h2" (gRPC): the answer is the server's next HTTP/2 DATA frame with a payload (an
 *   acknowledgement of ReportStream, or a ReportMetrics reply); other frames (SETTINGS,
 *   WINDOW_UPDATE, PING, HEADERS) pass.
 * - "http1" (the REST port): the answer is the server's next bytes.
 */

export type ProxyMode = "h2" | "http1";

export class CutProxy {
  private armed: { resolve: () => void } | undefined;
  private readonly sockets = new Set<net.Socket>();
  /** Requests that reached the server through the proxy (HTTP/1 request lines; h2: DATA frames), for tests that count them. */
  readonly requestTimes: number[] = [];

  private constructor(private readonly server: net.Server, readonly port: number) {}

  static async start(target: { host: string; port: number }, mode: ProxyMode): Promise<CutProxy> {
    let proxy!: CutProxy;
    const server = net.createServer((client) => proxy.connect(client, target, mode));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new CutProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  /** Cuts the answer to the next report; resolves once it has been cut. */
  cutNextAnswer(): Promise<void> {
    return new Promise((resolve) => (this.armed = { resolve }));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private connect(client: net.Socket, target: { host: string; port: number }, mode: ProxyMode): void {
    const upstream = net.connect(target.port, target.host);
    this.sockets.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    // Armed when the agent's request went up: only answers after that are cut.
    let cutting = false;
    client.on("data", (chunk: Buffer) => {
      if (mode === "http1" && /^POST /.test(chunk.toString("latin1", 0, 5))) this.requestTimes.push(Date.now());
      if (this.armed && !cutting && isRequest(chunk, mode)) cutting = true;
      upstream.write(chunk);
    });
    const frames = new FrameSplitter();
    upstream.on("data", (chunk: Buffer) => {
      if (mode === "http1") {
        if (cutting) this.cut(close); else client.write(chunk);
        return;
      }
      // Frame by frame from the first byte (chunks are not aligned to frames); once armed,
      // cut at the first DATA frame with a payload.
      for (const frame of frames.push(chunk)) {
        if (cutting && frame.type === 0 && frame.length > 0) return this.cut(close);
        client.write(frame.bytes);
      }
    });
  }

  private cut(close: () => void): void {
    close();
    const armed = this.armed;
    this.armed = undefined;
    armed?.resolve();
  }
}

/** Whether the agent's bytes carry a report (not just HTTP/2 housekeeping). */
function isRequest(chunk: Buffer, mode: ProxyMode): boolean {
  if (mode === "http1") return true;
  // A report is a DATA frame (type 0) of some size; housekeeping frames are a few bytes.
  for (let at = 0; at + 9 <= chunk.length;) {
    const length = chunk.readUIntBE(at, 3);
    if (chunk[at + 3] === 0 && length > 20) return true;
    at += 9 + length;
  }
  return chunk.length > 100;
}

/** Splits an HTTP/2 byte stream from the server into frames (9-byte header + payload). */
class FrameSplitter {
  private pending = Buffer.alloc(0);

  *push(chunk: Buffer): Generator<{ type: number; length: number; bytes: Buffer }> {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 9) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < 9 + length) return;
      const bytes = this.pending.subarray(0, 9 + length);
      this.pending = this.pending.subarray(9 + length);
      yield { type: bytes[3]!, length, bytes };
    }
  }
}
