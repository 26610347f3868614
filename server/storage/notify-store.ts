import type { Database, RootDatabase } from "lmdb";
import type { AlertEvent } from "../alerts/types.ts";
import type { ChannelConfig, SilenceWindowConfig } from "../config/schema.ts";
import { pruneTimeKeyed, removeKeys } from "./prune.ts";

/** One event on its way to one channel. Finished deliveries leave this table for the log. */
export interface Delivery {
  id: string;
  channel_id: string;
  event: AlertEvent;
  /** Deliveries of one aggregation group go out as one message. */
  group_id: string;
  /** held: due during a silence window; re-checked for relevance when the window ends. */
  status: "pending" | "held";
  attempts: number;
  next_at: number;
  created_at: number;
  last_error: string | null;
}

export interface LogEntry {
  id: string;
  ts: number;
  channel_id: string;
  notification_id: string;
  status: "sent" | "retry" | "failed" | "expired" | "held" | "suppressed";
  attempt: number;
  http_status: number | null;
  detail: string;
  events: { id: string; status: AlertEvent["status"]; rule_name: string; agent_id: string }[];
}

export type StoredChannel = ChannelConfig & { id: string };
export type StoredSilence = SilenceWindowConfig & { id: string; note?: string };

interface OpenGroup { group_id: string; due_at: number }

/** The notifier's durable state in the control environment. */
export class NotifyStore {
  readonly deliveries: Database<Delivery, string>;
  readonly log: Database<LogEntry, [number, string]>;
  readonly channels: Database<StoredChannel, string>;
  readonly silences: Database<StoredSilence, string>;
  private readonly groups: Database<OpenGroup, string>;
  /** `${episode_id}|${channel_id}` → when the episode's firing message reached that channel. */
  private readonly sent: Database<number, string>;
  private readonly meta: Database<number, string>;
  private logSeq = 0;

  constructor(readonly env: RootDatabase, readonly outbox: Database<AlertEvent, [number, string]>) {
    this.deliveries = env.openDB<Delivery, string>({ name: "notify_deliveries" });
    this.log = env.openDB<LogEntry, [number, string]>({ name: "notify_log" });
    this.channels = env.openDB<StoredChannel, string>({ name: "notify_channels" });
    this.silences = env.openDB<StoredSilence, string>({ name: "notify_silences" });
    this.groups = env.openDB<OpenGroup, string>({ name: "notify_groups" });
    this.sent = env.openDB<number, string>({ name: "notify_sent" });
    this.meta = env.openDB<number, string>({ name: "notify_meta" });
  }

  /**
   * Moves every outbox event into per-channel deliveries, in one transaction (an event is
   * routed exactly once, whichever process does it). Deliveries of the same channel, rule
   * and status within `windowMs` of a group's first event join that group.
   */
  async routeOutbox(nowMs: number, windowMs: number, routeOf: (e: AlertEvent) => string[]): Promise<number> {
    let routed = 0;
    await this.deliveries.transaction(() => {
      for (const { key, value: event } of this.outbox.getRange({})) {
        for (const channelId of routeOf(event)) {
          const id = `${event.id}|${channelId}`;
          if (this.deliveries.get(id)) continue;
          const groupKey = `${channelId}|${event.rule_id}|${event.status}`;
          let group = windowMs > 0 ? this.groups.get(groupKey) : undefined;
          if (!group || group.due_at <= nowMs) {
            // Without a window every event is its own message.
            group = { group_id: windowMs > 0 ? `${groupKey}|${nowMs}` : `${groupKey}|${event.id}`, due_at: nowMs + windowMs };
            if (windowMs > 0) this.groups.put(groupKey, group);
          }
          this.deliveries.put(id, {
            id, channel_id: channelId, event, group_id: group.group_id, status: "pending",
            attempts: 0, next_at: group.due_at, created_at: nowMs, last_error: null,
          });
          routed++;
        }
        this.outbox.remove(key);
      }
    });
    return routed;
  }

  /** Deliveries due at `nowMs`, grouped into the messages they make. */
  dueGroups(nowMs: number): Delivery[][] {
    const groups = new Map<string, Delivery[]>();
    for (const { value } of this.deliveries.getRange({})) {
      if (value.next_at > nowMs) continue;
      const g = groups.get(value.group_id);
      if (g) g.push(value); else groups.set(value.group_id, [value]);
    }
    return [...groups.values()];
  }

  async update(deliveries: Delivery[]): Promise<void> {
    await this.deliveries.transaction(() => { for (const d of deliveries) this.deliveries.put(d.id, d); });
  }

  /** Removes finished deliveries; firing ones that were sent are remembered for their resolution. */
  async finish(deliveries: Delivery[], sentAt: number | null): Promise<void> {
    await this.deliveries.transaction(() => {
      for (const d of deliveries) {
        this.deliveries.remove(d.id);
        if (sentAt !== null && d.event.status === "firing") this.sent.put(`${d.event.episode_id}|${d.channel_id}`, sentAt);
      }
    });
  }

  firingWasSent(episodeId: string, channelId: string): boolean {
    return this.sent.get(`${episodeId}|${channelId}`) !== undefined;
  }

  async appendLog(entry: Omit<LogEntry, "id">): Promise<void> {
    const id = `${process.pid}-${entry.ts}-${this.logSeq++}`;
    await this.log.put([entry.ts, id], { ...entry, id });
  }

  /**
   * Deletes delivery-log entries older than `beforeMs`, and the memory of firing messages
   * sent before it, except for episodes still firing or with deliveries still to make
   * (their resolution must still follow).
   */
  async prune(beforeMs: number, firingEpisodes: ReadonlySet<string>): Promise<{ log: number; sent: number }> {
    const log = await pruneTimeKeyed(this.log, beforeMs);
    const keep = new Set(firingEpisodes);
    for (const { value } of this.deliveries.getRange({})) keep.add(value.event.episode_id);
    const stale: string[] = [];
    for (const { key, value } of this.sent.getRange({})) {
      if (value < beforeMs && !keep.has(key.slice(0, key.indexOf("|")))) stale.push(key);
    }
    await removeKeys(this.sent, stale);
    return { log, sent: stale.length };
  }

  queryLog(q: { channel?: string; status?: string; from?: number; to?: number; limit: number; offset: number }): { total: number; entries: LogEntry[] } {
    const entries: LogEntry[] = [];
    let total = 0;
    for (const { value } of this.log.getRange({ start: [q.to ?? Number.MAX_SAFE_INTEGER, "\uffff"], end: [q.from ?? 0, ""], reverse: true })) {
      if (q.channel && value.channel_id !== q.channel) continue;
      if (q.status && value.status !== q.status) continue;
      if (total >= q.offset && entries.length < q.limit) entries.push(value);
      total++;
    }
    return { total, entries };
  }

  /** Bumped when API channels or silences change, so every process reloads them. */
  version(): number {
    return this.meta.get("version") ?? 0;
  }

  async bumpVersion(): Promise<void> {
    await this.meta.transaction(() => this.meta.put("version", (this.meta.get("version") ?? 0) + 1));
  }
}
