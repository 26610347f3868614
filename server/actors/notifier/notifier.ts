import type { AlertSilence } from "../../notify/alert-silences.ts";
import type { SilenceWindowConfig } from "../../config/schema.ts";
import type { AlertStore } from "../../storage/alert-store.ts";
import type { Delivery, NotifyStore, StoredChannel } from "../../storage/notify-store.ts";
import { channelPlugin, validateChannel } from "../../notify/channels/registry.ts";
import { emptyFlow, sequence, type LiveChannel, type StageContext } from "../../notify/pipeline.ts";
import { aggregateStage, type GroupingOptions } from "../../notify/stages/aggregate.ts";
import { deliverStage } from "../../notify/stages/deliver.ts";
import { logStage } from "../../notify/stages/log.ts";
import type { RetryPolicy } from "../../notify/stages/retry.ts";
import { routeStage } from "../../notify/stages/route.ts";
import { silenceStage } from "../../notify/stages/silence.ts";
import type { FailureReason, SendResult } from "../../notify/types.ts";

export interface NotifierDeps {
  store: NotifyStore;
  alerts: Pick<AlertStore, "stillFiring">;
  now(): number;
  /** Only the process holding the notifier lease delivers. */
  isLeader(): Promise<boolean>;
  policy: RetryPolicy;
  grouping: GroupingOptions;
  timeoutMs: number;
  onOutcome?(channelId: string, outcome: string, reason: FailureReason | ""): void;
  /** A message whose processing failed (it stays due and is tried again). */
  onError?(error: unknown): void;
}

/**
 * The pipeline, as Alertmanager's: new events are routed and aggregated into messages (one
 * pass at a time: these decide what is stored); then every message due fans out to its own
 * run of silence → deliver → log, concurrently, so a slow channel holds up only its own
 * messages. Every stage's state is in LMDB, so a restart resumes where it stopped.
 */
const intake = sequence([routeStage, aggregateStage]);
const perMessage = sequence([silenceStage, deliverStage, logStage]);

/** The notifier actor's core: channels and silences as last loaded, passes of the pipeline. */
export class Notifier {
  private channels = new Map<string, LiveChannel>();
  private silences: SilenceWindowConfig[] = [];
  private alertSilences: AlertSilence[] = [];
  /** The intake of the current pass, while it runs. */
  private routing?: Promise<Delivery[]>;
  /** Messages (group_id) a pass is sending now. */
  private readonly sending = new Set<string>();

  constructor(private readonly deps: NotifierDeps) {}

  /** Channel tables from the file and the API; each is validated by its plugin. */
  setChannels(tables: readonly StoredChannel[]): void {
    this.channels = new Map(tables.map((table) => {
      const config = validateChannel(table, `channel ${table.id}`);
      return [table.id, { table, sender: channelPlugin(table.type).create(config, { now: this.deps.now, timeoutMs: this.deps.timeoutMs }) }];
    }));
  }

  setSilences(windows: readonly SilenceWindowConfig[], alertSilences: readonly AlertSilence[] = []): void {
    this.silences = [...windows];
    this.alertSilences = [...alertSilences];
  }

  /** One pass, to its end: route new events, then send what is due and wait for those sends. */
  async tick(): Promise<void> {
    await (await this.pass()).sent;
  }

  /**
   * Routes new events and starts sending what is due; resolves once the sends are started,
   * with `sent` for their end. Passes may overlap: the intake runs one pass at a time, and a
   * message already being sent by an earlier pass is left to it.
   */
  async pass(): Promise<{ sent: Promise<void> }> {
    if (!(await this.deps.isLeader())) return { sent: Promise.resolve() };
    // A pass whose intake failed reports it itself; the next one routes again.
    while (this.routing) await this.routing.catch(() => undefined);
    const ctx = this.context();
    // This thread's snapshot may predate events the evaluators committed a moment ago.
    this.deps.store.env.resetReadTxn();
    this.routing = intake(ctx, emptyFlow({ events: this.deps.store.outboxEntries() })).then((f) => f.deliveries);
    let due: Delivery[];
    try {
      due = await this.routing;
    } finally {
      this.routing = undefined;
    }
    const messages = new Map<string, Delivery[]>();
    for (const d of due) {
      if (this.sending.has(d.group_id)) continue;
      const m = messages.get(d.group_id);
      if (m) m.push(d); else messages.set(d.group_id, [d]);
    }
    for (const id of messages.keys()) this.sending.add(id);
    const sent = Promise.allSettled([...messages].map(([id, deliveries]) =>
      perMessage(ctx, emptyFlow({ deliveries })).finally(() => this.sending.delete(id))))
      .then((results) => { for (const r of results) if (r.status === "rejected") this.deps.onError?.(r.reason); });
    return { sent };
  }

  /** Sends a test message through one channel and returns its answer (no retry, no log). */
  async test(channelId: string): Promise<SendResult | null> {
    const channel = this.channels.get(channelId);
    if (!channel) return null;
    return channel.sender.send({ id: `test-${this.deps.now()}`, status: "firing", rule_name: "test", severity: "info", events: [], test: true });
  }

  private context(): StageContext {
    const { deps } = this;
    return {
      now: deps.now, store: deps.store, channels: this.channels, silences: this.silences, alertSilences: this.alertSilences,
      stillFiring: (e) => deps.alerts.stillFiring(e), policy: deps.policy, grouping: deps.grouping,
      countOutcome: (channelId, result, reason) => deps.onOutcome?.(channelId, result, reason),
    };
  }
}
