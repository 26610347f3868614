import type { AlertSilence } from "../notify/alert-silences.ts";
import type { Database, RootDatabase } from "lmdb";
import type { AlertEvent } from "../alerts/types.ts";
import type { ChannelConfig, SilenceWindowConfig } from "../config/schema.ts";
import { pruneTimeKeyed, removeKeys } from "./prune.ts";

/** One event on its way to one channel. Finished deliveries leave this table for the log. */
export interface Delivery {
  id: string;
  channel_id: string;
  event: AlertEvent;
  /** The message it goes out in (deliveries with the same id are sent together); stable across retries. */
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

/** One aggregation group (channel, rule, status) between passes; the aggregate stage decides it. */
export interface GroupState {
  key: string;
  /** The first message: events until `first_due_at` join it. */
  first_id: string;
  first_due_at: number;
  /** Events after `first_due_at` and before `window_end` join one follow-up, sent at `window_end`. */
  window_end: number;
  /** The current window's follow-up, once an event has joined it. */
  followup_id: string | null;
}

export type StoredChannel = ChannelConfig & { id: string };
export type StoredSilence = SilenceWindowConfig & { id: string; note?: string };

/** The notifier's durable state in the control environment. */
export class NotifyStore {
  readonly deliveries: Database<Delivery, string>;
  readonly log: Database<LogEntry, [number, string]>;
  readonly channels: Database<StoredChannel, string>;
  readonly silences: Database<StoredSilence, string>;
  /** Silences of some alerts (by rule and/or agent) until a time. */
  readonly alertSilences: Database<AlertSilence, string>;
  private readonly groups: Database<GroupState, string>;
  /** `${episode_id}|${channel_id}` → when the episode's firing message reached that channel. */
  private readonly sent: Database<number, string>;
  private readonly meta: Database<number, string>;
  /** Deliveries by when they are due, so a pass reads what is due, not every delivery waiting. */
  private readonly due: Database<true, [number, string]>;
  /** `${episode_id}|${channel_id}|${delivery id}` for each firing delivery still waiting (an
   *  episode that got worse has two: warning, then critical). */
  private readonly firingPending: Database<true, string>;
  /** The indexes are rebuilt once per process, before this process first reads them: a server
   *  of an older version (a rolling restart under PM2) wrote deliveries without them. */
  private indexed = false;
  private logSeq = 0;

  constructor(readonly env: RootDatabase, readonly outbox: Database<AlertEvent, [number, string]>) {
    this.deliveries = env.openDB<Delivery, string>({ name: "notify_deliveries" });
    this.log = env.openDB<LogEntry, [number, string]>({ name: "notify_log" });
    this.channels = env.openDB<StoredChannel, string>({ name: "notify_channels" });
    this.silences = env.openDB<StoredSilence, string>({ name: "notify_silences" });
    this.alertSilences = env.openDB<AlertSilence, string>({ name: "notify_alert_silences" });
    this.groups = env.openDB<GroupState, string>({ name: "notify_groups" });
    this.sent = env.openDB<number, string>({ name: "notify_sent" });
    this.meta = env.openDB<number, string>({ name: "notify_meta" });
    this.due = env.openDB<true, [number, string]>({ name: "notify_due" });
    this.firingPending = env.openDB<true, string>({ name: "notify_firing_pending" });
  }

  private rebuildIndexes(): void {
    this.indexed = true;
    this.deliveries.transactionSync(() => {
      for (const { key } of this.due.getRange({})) this.due.remove(key);
      for (const { key } of this.firingPending.getRange({})) this.firingPending.remove(key);
      for (const { value } of this.deliveries.getRange({})) this.index(value);
    });
  }

  /** Writes a delivery and its index entries (inside a write transaction). */
  private putDelivery(d: Delivery): void {
    const prev = this.deliveries.get(d.id);
    if (prev) this.unindex(prev);
    this.deliveries.put(d.id, d);
    this.index(d);
  }

  private removeDelivery(d: Delivery): void {
    const stored = this.deliveries.get(d.id);
    if (stored) this.unindex(stored);
    this.deliveries.remove(d.id);
  }

  private index(d: Delivery): void {
    this.due.put([d.next_at, d.id], true);
    if (d.event.status === "firing") this.firingPending.put(firingKey(d.event.episode_id, d.channel_id, d.id), true);
  }

  private unindex(d: Delivery): void {
    this.due.remove([d.next_at, d.id]);
    if (d.event.status === "firing") this.firingPending.remove(firingKey(d.event.episode_id, d.channel_id, d.id));
  }

  /** Events waiting to be routed, oldest first. */
  outboxEntries(): { key: [number, string]; event: AlertEvent }[] {
    return [...this.outbox.getRange({})].map(({ key, value }) => ({ key, event: value }));
  }

  group(key: string): GroupState | undefined {
    return this.groups.get(key);
  }

  /**
   * Stores a routing decision in one transaction: the new deliveries, their groups, and the
   * removal of the events they came from. Refused (false) when one of those events has left
   * the outbox meanwhile — another process routed it — so no event is routed twice.
   */
  async applyRouting(change: { consumed: [number, string][]; deliveries: Delivery[]; groups: GroupState[] }): Promise<boolean> {
    return this.deliveries.transaction(() => {
      if (change.consumed.some((key) => !this.outbox.doesExist(key))) return false;
      for (const d of change.deliveries) if (!this.deliveries.doesExist(d.id)) this.putDelivery(d);
      for (const g of change.groups) this.groups.put(g.key, g);
      for (const key of change.consumed) this.outbox.remove(key);
      return true;
    });
  }

  /** Deliveries due at `nowMs` (their message's wait or window is over, or a retry is due). */
  dueDeliveries(nowMs: number): Delivery[] {
    if (!this.indexed) this.rebuildIndexes();
    const out: Delivery[] = [];
    for (const { key } of this.due.getRange({ start: [0, ""], end: [nowMs, "\uffff"] })) {
      const d = this.deliveries.get(key[1]);
      // An entry an older version left behind (its delivery gone or moved) is not a delivery due.
      if (d && d.next_at === key[0]) out.push(d);
    }
    return out;
  }

  /** A firing delivery of an episode still waiting to go to a channel, if any. */
  firingDelivery(episodeId: string, channelId: string): Delivery | undefined {
    if (!this.indexed) this.rebuildIndexes();
    const prefix = firingKey(episodeId, channelId, "");
    for (const { key } of this.firingPending.getRange({ start: prefix, end: `${prefix}\uffff` })) {
      const d = this.deliveries.get(key.slice(prefix.length));
      if (d?.channel_id === channelId && d.event.episode_id === episodeId) return d;
    }
    return undefined;
  }

  async update(deliveries: Delivery[]): Promise<void> {
    await this.deliveries.transaction(() => { for (const d of deliveries) this.putDelivery(d); });
  }

  /** Removes finished deliveries; firing ones that were sent are remembered for their resolution. */
  async finish(deliveries: Delivery[], sentAt: number | null): Promise<void> {
    await this.deliveries.transaction(() => {
      for (const d of deliveries) {
        this.removeDelivery(d);
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

  /** Alert silences not yet over at `nowMs`. */
  activeAlertSilences(nowMs: number): AlertSilence[] {
    return [...this.alertSilences.getRange({})].map(({ value }) => value).filter((s) => s.ends_at > nowMs);
  }

  /** Bumped when API channels or silences change, so every process reloads them. */
  version(): number {
    return this.meta.get("version") ?? 0;
  }

  async bumpVersion(): Promise<void> {
    await this.meta.transaction(() => this.meta.put("version", (this.meta.get("version") ?? 0) + 1));
  }
}

const firingKey = (episodeId: string, channelId: string, deliveryId: string) => `${episodeId}|${channelId}|${deliveryId}`;
