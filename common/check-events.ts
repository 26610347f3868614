/*
 * Check events: what a reachability check saw happen, beside its `check.*` samples. They
 * travel in a report's `check_events` (proto/metrics.proto, CheckEventProto) and are shared
 * by the agent (which records them) and the server (which validates and stores them).
 */

/** One hop of a traceroute: who answered at this TTL, and each probe's round trip (null: no answer, "*"). */
export interface TracerouteHop {
  ttl: number;
  /** Absent when no probe at this TTL was answered. */
  address?: string;
  rttsMs: (number | null)[];
}

/** first: the check's first result since the agent started; down/up: a change; traceroute: a traced path. */
export const CHECK_EVENT_KINDS = ["first", "down", "up", "traceroute"] as const;
export type CheckEventKind = (typeof CHECK_EVENT_KINDS)[number];

export interface CheckEvent {
  /** The check's name, type and target: its samples' labels. */
  check: string;
  type: string;
  target: string;
  timestampMs: number;
  kind: CheckEventKind;
  /** Whether the check was up at that instant. */
  up: boolean;
  /** Why it was down (DownReason of agent/checks/check.ts). */
  reasonCode?: string;
  reasonMessage?: string;
  detail?: string;
  /** kind "traceroute" only: the path, in TTL order. */
  hops?: TracerouteHop[];
}

/** The proto's CheckEventKind numbers, by kind (0 is "unspecified" and never sent). */
export const CHECK_EVENT_KIND_NUMBER: Readonly<Record<CheckEventKind, number>> = { first: 1, down: 2, up: 3, traceroute: 4 };

/** The kind of a proto number; undefined for 0 or a number this version does not know. */
export function checkEventKindOf(n: number): CheckEventKind | undefined {
  return CHECK_EVENT_KINDS[n - 1];
}

/** A probe that got no answer: negative on the wire (the proto's rtt_ms), null here. */
export const NO_ANSWER_RTT = -1;

/** The detail of a path traced because the server asked (command `id`): how the server finds the answer. */
export const traceOnRequestDetail = (id: string): string => `traced on request ${id}`;
