import type { Database, RootDatabase } from "lmdb";
import type { CheckEvent } from "../../common/check-events.ts";
import { removeKeys } from "./prune.ts";

/** A stored check event: who saw it, and what (the CheckEvent's fields, snake_case as the API shows them). */
export interface StoredCheckEvent {
  agent_id: string;
  check: string;
  type: string;
  target: string;
  timestamp_ms: number;
  kind: CheckEvent["kind"];
  up: boolean;
  reason_code?: string;
  reason_message?: string;
  detail?: string;
}

/** One traced path; a hop's `rtt_ms` has null for a probe that got no answer. */
export interface StoredTraceroute extends StoredCheckEvent {
  hops: { ttl: number; address?: string; rtt_ms: (number | null)[] }[];
}

type EventKey = [check: string, agentId: string, ts: number, kind: string];
type TraceKey = [check: string, agentId: string, ts: number];

export interface EventQuery {
  fromMs: number;
  toMs: number;
  agentId?: string | undefined;
  limit: number;
}

/** Past every agent id (printable ASCII): the end of a check's key range. */
const AFTER_AGENTS = "\uffff";

/**
 * Check events (first results, downs with their reasons, recoveries) and traced paths, in
 * the control environment, keyed by check, agent and time: every read is of one check (its
 * results, a rule's last traceroute), most of one agent too.
 *
 * Exactly once without report keys: an event's key is what it is (check, agent, instant,
 * kind), so a resent report puts the same entries again and nothing is stored twice. Ingest
 * writes a report's events whether or not its points were a duplicate, and acknowledges
 * the report only when both are durable: a crash between the two writes loses nothing.
 */
export class CheckEventStore {
  private readonly events: Database<StoredCheckEvent, EventKey>;
  private readonly traces: Database<StoredTraceroute, TraceKey>;

  constructor(private readonly env: RootDatabase) {
    this.events = env.openDB<StoredCheckEvent, EventKey>({ name: "check_events" });
    this.traces = env.openDB<StoredTraceroute, TraceKey>({ name: "check_traceroutes" });
  }

  /** Stores one report's events in one transaction; resolves once durable. */
  async write(agentId: string, events: readonly CheckEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.events.transaction(() => {
      for (const e of events) {
        const stored = toStored(agentId, e);
        if (e.kind === "traceroute") {
          const hops = (e.hops ?? []).map((h) => ({ ttl: h.ttl, ...(h.address !== undefined && { address: h.address }), rtt_ms: h.rttsMs }));
          void this.traces.put([e.check, agentId, e.timestampMs], { ...stored, hops });
        } else {
          void this.events.put([e.check, agentId, e.timestampMs, e.kind], stored);
        }
      }
    });
    await this.env.flushed;
  }

  /** A check's events in [fromMs, toMs], by agent then time; at most `limit`. */
  eventsOf(check: string, q: EventQuery): StoredCheckEvent[] {
    const out: StoredCheckEvent[] = [];
    for (const { value } of this.events.getRange(checkRange(check, q.agentId))) {
      if (value.timestamp_ms < q.fromMs || value.timestamp_ms > q.toMs) continue;
      out.push(value);
      if (out.length >= q.limit) break;
    }
    return out;
  }

  /** Traced paths in [fromMs, toMs], newest first, at most `limit`; of one check and/or agent when given. */
  traceroutes(q: EventQuery & { check?: string | undefined }): StoredTraceroute[] {
    const range = q.check !== undefined ? checkRange(q.check, q.agentId) : {};
    const found: StoredTraceroute[] = [];
    for (const { value } of this.traces.getRange(range)) {
      if (value.timestamp_ms < q.fromMs || value.timestamp_ms > q.toMs) continue;
      if (q.agentId !== undefined && value.agent_id !== q.agentId) continue;
      found.push(value);
    }
    return found.sort((a, b) => b.timestamp_ms - a.timestamp_ms).slice(0, q.limit);
  }

  /** The newest traced path of a check from an agent, if any. */
  lastTraceroute(check: string, agentId: string): StoredTraceroute | undefined {
    for (const { value } of this.traces.getRange({ start: [check, agentId, Number.MAX_SAFE_INTEGER], end: [check, agentId, 0], reverse: true, limit: 1 })) return value;
    return undefined;
  }

  /** Why the check was last down from an agent: its newest down event's code and message (a first result that was down counts). */
  lastDownReason(check: string, agentId: string): string | undefined {
    for (const { value } of this.events.getRange({ start: [check, agentId, Number.MAX_SAFE_INTEGER], end: [check, agentId, 0], reverse: true, limit: 16 })) {
      if (value.up) return undefined;
      if (value.reason_code) return `${value.reason_code}: ${value.reason_message ?? ""}`.replace(/: $/, "");
    }
    return undefined;
  }

  /** What an agent's events tell of it failing a check: its reason and where its newest traceroute ended. */
  facts(check: string, agentId: string): { reason?: string | undefined; lastHop?: string | undefined } {
    const trace = this.lastTraceroute(check, agentId);
    const hop = trace && [...trace.hops].reverse().find((h) => h.address !== undefined);
    return { reason: this.lastDownReason(check, agentId), lastHop: hop ? `${hop.address} (ttl ${hop.ttl})` : undefined };
  }

  /**
   * Deletes what is older than `beforeMs` (retention_days, as the metric partitions). Keys
   * lead with the check, not the time, so every key is looked at: events are news, not
   * samples, and few.
   */
  async prune(beforeMs: number): Promise<number> {
    const oldEvents = [...this.events.getKeys({})].filter((k) => k[2] < beforeMs);
    const oldTraces = [...this.traces.getKeys({})].filter((k) => k[2] < beforeMs);
    await removeKeys(this.events, oldEvents);
    await removeKeys(this.traces, oldTraces);
    return oldEvents.length + oldTraces.length;
  }
}

function checkRange(check: string, agentId: string | undefined) {
  return agentId !== undefined
    ? { start: [check, agentId], end: [check, agentId, Number.MAX_SAFE_INTEGER] }
    : { start: [check], end: [check, AFTER_AGENTS] };
}

function toStored(agentId: string, e: CheckEvent): StoredCheckEvent {
  return {
    agent_id: agentId, check: e.check, type: e.type, target: e.target, timestamp_ms: e.timestampMs, kind: e.kind, up: e.up,
    ...(e.reasonCode !== undefined && { reason_code: e.reasonCode }),
    ...(e.reasonMessage !== undefined && { reason_message: e.reasonMessage }),
    ...(e.detail !== undefined && { detail: e.detail }),
  };
}
