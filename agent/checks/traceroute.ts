import { lookup } from "node:dns/promises";
import net from "node:net";
import type { TracerouteHop } from "../../common/check-events.ts";
import { sharedIcmpSocket, type EchoOutcome, type IcmpSocket, type IcmpUnavailable } from "./icmp-socket.ts";

// One hop of a path (who answered at this TTL, each probe's round trip, null for `*`): declared
// in common/ because the server validates and stores the same shape (check events).
export type { TracerouteHop };

export interface TracerouteOptions {
  maxHops?: number;
  probesPerHop?: number;
  /** How long each probe waits for its answer (default 1000 ms). */
  timeoutMs?: number;
  /** Ends the trace early; the hops found so far are returned. */
  signal?: AbortSignal;
  /** The ICMP socket (default: the process's shared one). */
  socket?: () => IcmpSocket | IcmpUnavailable;
}

/**
 * Traces the path to `target` with ICMP echo requests of rising TTL, the probes of one hop
 * in parallel: routers answer "time exceeded" (quoting our request, which is how their
 * answer is matched), the target answers the echo. Stops at the target, at a hop that says
 * "unreachable", after `maxHops`, or when `signal` aborts. IPv4 only; throws when the name
 * does not resolve or raw ICMP is not allowed.
 */
export async function traceroute(target: string, options: TracerouteOptions = {}): Promise<TracerouteHop[]> {
  const { maxHops = 30, probesPerHop = 3, timeoutMs = 1000, signal } = options;
  const socket = (options.socket ?? sharedIcmpSocket)();
  if ("unavailable" in socket) throw new Error(`traceroute to ${target}: ${socket.unavailable}`);
  const address = net.isIPv4(target) ? target : (await lookup(target, { family: 4 })).address;
  const hops: TracerouteHop[] = [];
  for (let ttl = 1; ttl <= maxHops && !signal?.aborted; ttl++) {
    const outcomes = await Promise.all(Array.from({ length: probesPerHop }, () => socket.echo(address, { ttl, timeoutMs, signal })));
    if (signal?.aborted) break;
    hops.push(hopOf(ttl, outcomes));
    if (outcomes.some((o) => o.kind === "reply" || o.kind === "unreachable")) break;
    if (outcomes.every((o) => o.kind === "error")) throw new Error(`traceroute to ${address}: ${(outcomes[0] as { message: string }).message}`);
  }
  return hops;
}

/** A hop from its probes' outcomes; the first address that answered names it. */
export function hopOf(ttl: number, outcomes: readonly EchoOutcome[]): TracerouteHop {
  const answered = outcomes.find((o) => "from" in o);
  const hop: TracerouteHop = { ttl, rttsMs: outcomes.map((o) => ("rttMs" in o ? o.rttMs : null)) };
  if (answered && "from" in answered) hop.address = answered.from;
  return hop;
}

/** The host a check's traceroute goes to: a URL target's host name, else the target itself. */
export function traceHost(target: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return target;
  const host = new URL(target).hostname;
  return host.startsWith("[") ? host.slice(1, -1) : host;
}

/** `1  10.0.0.1  0.4 ms  0.3 ms  *` lines, as traceroute prints them. */
export function formatHops(hops: readonly TracerouteHop[]): string[] {
  return hops.map((h) => `${h.ttl}  ${h.address ?? "*"}  ${h.rttsMs.map((r) => (r === null ? "*" : `${r} ms`)).join("  ")}`);
}
