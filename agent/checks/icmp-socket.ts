import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import { performance } from "node:perf_hooks";
import type { RawSocket } from "raw-socket";
import { echoRequest, ECHO_REQUEST_BYTES, ICMP_ECHO_REPLY, ICMP_TIME_EXCEEDED, ICMP_UNREACHABLE, parseIcmp, writeEchoHeader, type IcmpAnswer } from "./icmp-packet.ts";

/*
 * One raw ICMP socket for the whole agent process: every icmp check and traceroute sends
 * through it, and replies are matched to their request by identifier and sequence, so 500
 * targets cost one file descriptor, not 500.
 */

/** What became of one echo request. */
export type EchoOutcome =
  | { kind: IcmpAnswer["kind"]; from: string; rttMs: number; code: number }
  | { kind: "timeout" }
  | { kind: "error"; message: string };

/** How long an echo request waits: `timeoutMs`, or until `signal` aborts, whichever comes first; at least one of them. */
export type EchoOptions = {
  /** The IP time-to-live; traceroute raises it hop by hop (default 64). */
  ttl?: number;
} & ({ timeoutMs: number; signal?: AbortSignal } | { timeoutMs?: undefined; signal: AbortSignal });

export interface IcmpSocket {
  /** Sends one echo request to an IPv4 address and waits for the answer about it. */
  echo(address: string, options: EchoOptions): Promise<EchoOutcome>;
  /** The same, the outcome handed to `done` (once): no promise per request where a round sends thousands. */
  request(address: string, options: EchoOptions, done: (outcome: EchoOutcome) => void): void;
  close(): void;
}

/** Why raw ICMP is not available to this process, and what to do about it. */
export interface IcmpUnavailable {
  unavailable: string;
}

const DEFAULT_TTL = 64;

/** setsockopt level and option of Linux's per-socket ICMP type filter (linux/icmp.h; not in raw-socket's tables). */
const SOL_RAW = 255;
const ICMP_FILTER = 1;

/** What raw-socket's native send looks like; see RawIcmpSocket's constructor. */
type NativeSend = (buffer: Buffer, offset: number, length: number, address: string, afterSend: (bytes: number) => void) => void;

const afterSend = () => undefined;

/** One echo request waiting for its answer. */
interface Waiter {
  readonly sequence: number;
  readonly to: string;
  sentAt: number;
  timer: NodeJS.Timeout | undefined;
  resolve(outcome: EchoOutcome): void;
}

const TIMED_OUT: EchoOutcome = Object.freeze({ kind: "timeout" });

/**
 * The requests sent under one abort signal (an icmp round, a traceroute), which that
 * signal ends: one listener per signal, not one added and removed per request.
 */
class SignalWaiters {
  readonly waiters: Waiter[] = [];

  constructor(private readonly socket: RawIcmpSocket) {}

  handleEvent(): void {
    for (const waiter of this.waiters) this.socket.finish(waiter, TIMED_OUT);
  }
}

/** A request's own timeout; a module function with arguments rather than a closure per request. */
function expire(socket: RawIcmpSocket, waiter: Waiter): void {
  waiter.timer = undefined;
  socket.finish(waiter, TIMED_OUT);
}

/** The shared socket over a raw-socket socket (protocol ICMP, IPv4). */
export class RawIcmpSocket implements IcmpSocket {
  private readonly waiters = new Map<number, Waiter>();
  private readonly bySignal = new WeakMap<AbortSignal, SignalWaiters>();
  private readonly identifier = process.pid & 0xffff;
  private nextSequence = 0;
  /** The TTL the socket has now: set again only when a probe needs another (one syscall less per echo). */
  private ttl = -1;
  /** Set once the raw socket is gone (an error closes it); the shared opener then opens a new one. */
  closed = false;

  /** One packet buffer for every request: each is written and sent in the same call. */
  private readonly packet = echoRequest(0, 0);

  /**
   * `send` is the native socket's own: raw-socket's queued send arms the socket's poll
   * watcher for writing and disarms it again for every packet, two event-loop turns per
   * echo request; a raw socket's sendto(2) does not block, so the queue buys nothing here.
   */
  constructor(private readonly socket: RawSocket, private readonly raw: typeof import("raw-socket"), private readonly send: NativeSend) {
    socket.on("message", (packet, source) => this.receive(packet, source));
    // A failed receive closes the raw socket: fail what waits; the next opener tries again.
    socket.on("error", (err) => this.failAll(`the raw ICMP socket failed: ${err.message}`));
    socket.on("close", () => { this.closed = true; });
    // 500 replies arriving together must not overflow the default buffer (every ICMP
    // packet to the host lands in it, not only ours).
    try { socket.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_RCVBUF, 1 << 20); } catch { /* the default then */ }
    // Only the kinds of answer parseIcmp reads wake the agent: not the echo requests other
    // hosts (a mesh) send to this one, nor, on loopback, the agent's own. Linux only; elsewhere every packet is read and parsed away.
    try { socket.setOption(SOL_RAW, ICMP_FILTER, icmpFilter([ICMP_ECHO_REPLY, ICMP_UNREACHABLE, ICMP_TIME_EXCEEDED]), 4); } catch { /* all of them then */ }
    // The socket would hold the event loop open while idle; it listens only while a request waits.
    socket.pauseRecv();
  }

  echo(address: string, options: EchoOptions): Promise<EchoOutcome> {
    return new Promise((resolve) => this.request(address, options, resolve));
  }

  request(address: string, { ttl = DEFAULT_TTL, timeoutMs, signal }: EchoOptions, done: (outcome: EchoOutcome) => void): void {
    if (signal?.aborted) return done(TIMED_OUT);
    if (!net.isIPv4(address)) return done({ kind: "error", message: `send an echo request to ${address}: not an IPv4 address` });
    const waiter: Waiter = { sequence: this.takeSequence(), to: address, sentAt: Number.POSITIVE_INFINITY, timer: undefined, resolve: done };
    this.waiters.set(waiter.sequence, waiter);
    if (this.socket.recvPaused) this.socket.resumeRecv();
    // A round's requests need no timer each: its signal aborts at the round's bound.
    if (timeoutMs !== undefined) waiter.timer = setTimeout(expire, timeoutMs, this, waiter);
    if (signal) this.watch(signal).waiters.push(waiter);
    try {
      if (this.ttl !== ttl) this.socket.setOption(this.raw.SocketLevel.IPPROTO_IP, this.raw.SocketOption.IP_TTL, ttl);
      this.ttl = ttl;
      writeEchoHeader(this.packet, this.identifier, waiter.sequence);
      waiter.sentAt = performance.now();
      this.send(this.packet, 0, ECHO_REQUEST_BYTES, address, afterSend);
    } catch (err) {
      this.finish(waiter, { kind: "error", message: `send an echo request to ${address}: ${(err as Error).message}` });
    }
  }

  /** Settles a request, once: the first of its answer, its timeout, its signal or a failure. */
  finish(waiter: Waiter, outcome: EchoOutcome): void {
    if (this.waiters.get(waiter.sequence) !== waiter) return;
    this.waiters.delete(waiter.sequence);
    if (waiter.timer) clearTimeout(waiter.timer);
    if (this.waiters.size === 0 && !this.socket.recvPaused) this.socket.pauseRecv();
    waiter.resolve(outcome);
  }

  private watch(signal: AbortSignal): SignalWaiters {
    let watch = this.bySignal.get(signal);
    if (!watch) {
      watch = new SignalWaiters(this);
      this.bySignal.set(signal, watch);
      signal.addEventListener("abort", watch, { once: true });
    }
    return watch;
  }

  close(): void {
    this.failAll("the ICMP socket was closed");
    this.socket.close();
  }

  private receive(packet: Buffer, source: string): void {
    const answer = parseIcmp(packet, source);
    if (!answer || answer.identifier !== this.identifier) return;
    const waiter = this.waiters.get(answer.sequence);
    if (!waiter || waiter.to !== answer.to) return;
    const rttMs = Math.round((performance.now() - waiter.sentAt) * 100) / 100;
    this.finish(waiter, { kind: answer.kind, from: source, rttMs: Math.max(0, rttMs), code: answer.code });
  }

  private takeSequence(): number {
    // 65 536 sequences in flight would take 500 targets answering nothing for minutes; skip any still waiting.
    do this.nextSequence = (this.nextSequence + 1) & 0xffff; while (this.waiters.has(this.nextSequence));
    return this.nextSequence;
  }

  private failAll(message: string): void {
    for (const waiter of [...this.waiters.values()]) this.finish(waiter, { kind: "error", message });
  }
}

/** The ICMP_FILTER mask letting only `types` through (a set bit drops that type), in host byte order. */
function icmpFilter(types: readonly number[]): Buffer {
  let pass = 0;
  for (const type of types) pass |= 1 << type;
  const mask = Buffer.alloc(4);
  if (os.endianness() === "LE") mask.writeUInt32LE(~pass >>> 0);
  else mask.writeUInt32BE(~pass >>> 0);
  return mask;
}

export const ICMP_PRIVILEGE_FIX =
  "run the agent as root, or give node the capability: sudo setcap cap_net_raw+ep $(readlink -f $(which node))";

/** Opens a raw ICMP socket, or says why this process may not. */
export function openRawIcmpSocket(): IcmpSocket | IcmpUnavailable {
  let raw: typeof import("raw-socket");
  try {
    // CommonJS with a native addon: loaded only when an icmp check exists, and left out of
    // the agent bundle (scripts/build-agent.mjs), where it must be installed beside it.
    raw = createRequire(import.meta.url)("raw-socket") as typeof import("raw-socket");
  } catch (err) {
    return { unavailable: `the raw-socket module could not be loaded (${(err as Error).message.split("\n")[0]}); install it beside the agent: npm install raw-socket` };
  }
  try {
    const socket = raw.createSocket({ protocol: raw.Protocol.ICMP, addressFamily: raw.AddressFamily.IPv4, bufferSize: 1500 });
    const native = socket.wrap;
    if (typeof native?.send !== "function") {
      socket.close();
      return { unavailable: "the installed raw-socket has no native send this agent can use (it is written for raw-socket 1.8); install that version beside the agent: npm install raw-socket@1.8" };
    }
    return new RawIcmpSocket(socket, raw, native.send.bind(native));
  } catch (err) {
    const message = (err as Error).message;
    if (/not permitted|permission denied|EPERM|EACCES/i.test(message)) {
      return { unavailable: `this process may not open a raw ICMP socket (${message}): ${ICMP_PRIVILEGE_FIX}` };
    }
    return { unavailable: `opening a raw ICMP socket failed: ${message}` };
  }
}

let shared: IcmpSocket | IcmpUnavailable | undefined;

/** The process's one ICMP socket, opened on first use; the answer (socket or reason) is kept. */
export function sharedIcmpSocket(): IcmpSocket | IcmpUnavailable {
  if (shared === undefined || (shared instanceof RawIcmpSocket && shared.closed)) shared = openRawIcmpSocket();
  return shared;
}
