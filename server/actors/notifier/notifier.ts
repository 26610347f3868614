import { SEVERITY_RANK, type AlertEvent } from "../../alerts/types.ts";
import type { SilenceWindowConfig } from "../../config/schema.ts";
import type { AlertStore } from "../../storage/alert-store.ts";
import type { Delivery, NotifyStore, StoredChannel } from "../../storage/notify-store.ts";
import { CHANNEL_PLUGINS, validateChannel } from "../../notify/channels/registry.ts";
import { route } from "../../notify/stages/route.ts";
import { afterAttempt, type RetryPolicy } from "../../notify/stages/retry.ts";
import { silencedUntil } from "../../notify/stages/silence.ts";
import type { Channel, Notification, SendResult } from "../../notify/types.ts";

export interface NotifierDeps {
  store: NotifyStore;
  alerts: AlertStore;
  now(): number;
  /** Only the process holding the notifier lease delivers. */
  isLeader(): Promise<boolean>;
  policy: RetryPolicy;
  aggregationWindowMs: number;
  timeoutMs: number;
  onOutcome?(channelId: string, outcome: string): void;
  /** A group whose processing failed (it stays due and is tried again). */
  onError?(error: unknown): void;
}

interface LiveChannel { table: StoredChannel; sender: Channel }

const HELD_RECHECK_MS = 1_000;

/**
 * The notifier's pipeline, as Alertmanager's: route (min_severity, send_resolved) →
 * aggregate (same rule and status within the window: one message) → silence windows (due
 * messages wait for the window's end; then firing alerts that resolved meanwhile, and
 * resolutions of alerts never announced, are dropped) → deliver with retry → log. Every
 * step's state is in LMDB, so a restart resumes where it stopped.
 */
export class Notifier {
  private channels = new Map<string, LiveChannel>();
  private silences: SilenceWindowConfig[] = [];
  /** The routing step of the current pass, while it runs. */
  private routing?: Promise<void>;
  /** Groups (group_id) a pass is sending now. */
  private readonly sending = new Set<string>();

  constructor(private readonly deps: NotifierDeps) {}

  /** Channel tables from the file and the API; each is validated by its plugin. */
  setChannels(tables: readonly StoredChannel[]): void {
    this.channels = new Map(tables.map((table) => {
      const config = validateChannel(table, `channel ${table.id}`);
      return [table.id, { table, sender: CHANNEL_PLUGINS[table.type].create(config, { now: this.deps.now, timeoutMs: this.deps.timeoutMs }) }];
    }));
  }

  setSilences(windows: readonly SilenceWindowConfig[]): void {
    this.silences = [...windows];
  }

  /** One pass, to its end: route new events, then send what is due and wait for those sends. */
  async tick(): Promise<void> {
    await (await this.pass()).sent;
  }

  /**
   * Routes new events and starts sending what is due; resolves once the sends are started,
   * with `sent` for their end. Passes may overlap, so a slow channel holds up only its own
   * messages: routing runs one pass at a time, and a message already being sent by an
   * earlier pass is left to it.
   */
  async pass(): Promise<{ sent: Promise<void> }> {
    if (!(await this.deps.isLeader())) return { sent: Promise.resolve() };
    // A pass whose routing failed reports it itself; the next one routes again.
    while (this.routing) await this.routing.catch(() => undefined);
    this.routing = this.route();
    try {
      await this.routing;
    } finally {
      this.routing = undefined;
    }
    // A fresh snapshot: a message another pass finished must not be read as due again (it
    // leaves `sending` only once its outcome is committed).
    this.deps.store.env.resetReadTxn();
    const now = this.deps.now();
    const groups = this.deps.store.dueGroups(now).filter((g) => !this.sending.has(g[0]!.group_id));
    for (const g of groups) this.sending.add(g[0]!.group_id);
    // Groups go out concurrently: a slow or dead channel does not hold up the others.
    const sent = Promise.allSettled(groups.map((g) => this.process(g, now).finally(() => this.sending.delete(g[0]!.group_id))))
      .then((results) => { for (const r of results) if (r.status === "rejected") this.deps.onError?.(r.reason); });
    return { sent };
  }

  private async route(): Promise<void> {
    // This thread's snapshot may predate events the evaluators committed a moment ago.
    this.deps.store.env.resetReadTxn();
    const routable = [...this.channels.values()].map((c) => c.table);
    await this.deps.store.routeOutbox(this.deps.now(), this.deps.aggregationWindowMs, (e) => route(e, routable));
  }

  /** Sends a test message through one channel and returns its answer (no retry, no log). */
  async test(channelId: string): Promise<SendResult | null> {
    const channel = this.channels.get(channelId);
    if (!channel) return null;
    return channel.sender.send({ id: `test-${this.deps.now()}`, status: "firing", rule_name: "test", severity: "info", events: [], test: true });
  }

  private async process(group: Delivery[], now: number): Promise<void> {
    const { store } = this.deps;
    const channelId = group[0]!.channel_id;
    const channel = this.channels.get(channelId);
    if (!channel) {
      await store.finish(group, null);
      return this.log(group, "failed", 0, null, `channel '${channelId}' no longer exists`, now);
    }
    const until = silencedUntil(this.silences, now);
    if (until !== null) {
      const newlyHeld = group.filter((d) => d.status !== "held");
      // Looked at again every second: a window removed through the API releases them at once.
      await store.update(group.map((d) => ({ ...d, status: "held", next_at: Math.min(until, now + HELD_RECHECK_MS) })));
      if (newlyHeld.length) await this.log(newlyHeld, "held", 0, null, `silence window until ${new Date(until).toISOString()}`, now);
      return;
    }
    const stale = group.filter((d) => d.status === "held" && !this.stillRelevant(d));
    if (stale.length) {
      await store.finish(stale, null);
      await this.log(stale, "suppressed", 0, null, "held through a silence window; no longer relevant", now);
    }
    const due = group.filter((d) => !stale.includes(d));
    if (due.length === 0) return;

    const attempt = Math.max(...due.map((d) => d.attempts)) + 1;
    const notification = toNotification(due);
    const result = await channel.sender.send(notification);
    const createdAt = Math.min(...due.map((d) => d.created_at));
    const decision = afterAttempt(this.deps.policy, attempt, result, createdAt, this.deps.now());
    switch (decision.action) {
      case "sent":
        await store.finish(due, this.deps.now());
        return this.log(due, "sent", attempt, result.status ?? null, result.detail, now);
      case "retry":
        await store.update(due.map((d) => ({ ...d, status: "pending", attempts: attempt, next_at: decision.at, last_error: result.detail })));
        return this.log(due, "retry", attempt, result.status ?? null, result.detail, now);
      default:
        await store.finish(due, null);
        return this.log(due, decision.action, attempt, result.status ?? null, decision.reason, now);
    }
  }

  /** After a silence window: announce a firing alert only if it still fires; a resolution only if its firing was announced. */
  private stillRelevant(d: Delivery): boolean {
    return d.event.status === "firing"
      ? this.deps.alerts.stillFiring(d.event)
      : this.deps.store.firingWasSent(d.event.episode_id, d.channel_id);
  }

  private async log(ds: Delivery[], status: "sent" | "retry" | "failed" | "expired" | "held" | "suppressed", attempt: number, httpStatus: number | null, detail: string, now: number) {
    const channelId = ds[0]!.channel_id;
    this.deps.onOutcome?.(channelId, status);
    await this.deps.store.appendLog({
      ts: now, channel_id: channelId, notification_id: ds[0]!.group_id, status, attempt, http_status: httpStatus,
      detail: detail.slice(0, 500),
      events: ds.map((d) => ({ id: d.event.id, status: d.event.status, rule_name: d.event.rule_name, agent_id: d.event.agent_id })),
    });
  }
}

function toNotification(ds: Delivery[]): Notification {
  const events: AlertEvent[] = ds.map((d) => d.event).sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  const worst = events.reduce((w, e) => (SEVERITY_RANK[e.severity] > SEVERITY_RANK[w] ? e.severity : w), events[0]!.severity);
  return { id: ds[0]!.group_id, status: events[0]!.status, rule_name: events[0]!.rule_name, severity: worst, events };
}
