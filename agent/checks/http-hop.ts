import http from "node:http";
import https from "node:https";
import type net from "node:net";
import { performance } from "node:perf_hooks";
import type tls from "node:tls";
import { ms } from "./check.ts";

/** One request/response exchange and where its time went; each hop opens its own connection. */
export interface Hop {
  status: number;
  location: string | undefined;
  /** The first `bodyLimit` bytes, as text. */
  body: string;
  dnsMs: number;
  connectMs: number;
  tlsMs: number;
  firstByteMs: number;
  /** Days until the server certificate's notAfter (https only). */
  tlsDaysLeft: number | undefined;
}

export interface HopOptions {
  method: string;
  ca: string | undefined;
  signal: AbortSignal;
  bodyLimit: number;
}

const DAY_MS = 86_400_000;

/**
 * GET (or HEAD) one URL with no connection reuse, so every probe measures a fresh DNS
 * lookup, connect and handshake. Phases come from the socket's own events; a phase that
 * did not happen (no lookup for an IP address, no TLS for http) is 0.
 */
export function requestHop(url: URL, options: HopOptions): Promise<Hop> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const marks = { lookup: 0, connect: 0, secure: 0, response: 0 };
    let tlsDaysLeft: number | undefined;
    const transport = url.protocol === "https:" ? https : http;
    const req = transport.request(url, {
      method: options.method,
      agent: false,
      signal: options.signal,
      ca: options.ca,
      headers: { "user-agent": "tsmon-agent check", accept: "*/*" },
    }, (res) => {
      marks.response = performance.now();
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on("data", (chunk: Buffer) => {
        // The rest is read and dropped: the total time includes the whole body.
        if (kept < options.bodyLimit) { chunks.push(chunk); kept += chunk.length; }
      });
      res.on("error", reject);
      res.on("end", () => {
        const after = (mark: number, prev: number) => (mark ? ms(prev, mark) : 0);
        const dnsEnd = marks.lookup || started;
        const connectEnd = marks.connect || dnsEnd;
        const tlsEnd = marks.secure || connectEnd;
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          body: Buffer.concat(chunks).subarray(0, options.bodyLimit).toString("utf8"),
          dnsMs: after(marks.lookup, started),
          connectMs: after(marks.connect, dnsEnd),
          tlsMs: after(marks.secure, connectEnd),
          firstByteMs: ms(tlsEnd, marks.response),
          tlsDaysLeft,
        });
      });
    });
    req.on("socket", (socket: net.Socket) => {
      socket.once("lookup", () => { marks.lookup = performance.now(); });
      socket.once("connect", () => { marks.connect = performance.now(); });
      socket.once("secureConnect", () => {
        marks.secure = performance.now();
        const cert = (socket as tls.TLSSocket).getPeerCertificate();
        if (cert?.valid_to) tlsDaysLeft = Math.floor((Date.parse(cert.valid_to) - Date.now()) / DAY_MS * 100) / 100;
      });
    });
    req.on("error", reject);
    req.end();
  });
}
