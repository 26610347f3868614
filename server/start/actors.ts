import type { ServerConfig } from "../config/load.ts";
import type { ChannelConfig, SilenceWindowConfig } from "../config/schema.ts";
import { IngestPool } from "../actors/ingest/ingest-pool.ts";
import { Admission } from "../actors/ingest/admission.ts";
import type { ByteBudget } from "../actors/ingest/byte-budget.ts";
import { Intake } from "../actors/ingest/intake.ts";
import { WindowShards } from "../actors/window/window-shards.ts";
import { windowFeedSettings } from "../actors/protocol/window-feed-layout.ts";
import { EvaluatorShards } from "../actors/evaluator/evaluator-shards.ts";
import { AlertWiring } from "../actors/evaluator/alert-wiring.ts";
import { NotifierActor } from "../actors/notifier/notifier-actor.ts";
import type { NotifierWorkerData } from "../actors/protocol/messages.ts";
import type { Supervision } from "../actors/runtime/restart-policy.ts";
import { preciseNow } from "../actors/runtime/precise-clock.ts";
import { BURST_OVER_MS, IdleCollector } from "../actors/runtime/idle-collector.ts";
import { collectEverywhere, TRIM_AFTER_MS } from "../actors/runtime/collect-garbage.ts";
import { AlertEngine } from "../alerts/engine.ts";
import { RuleBook } from "../alerts/rule-book.ts";
import { ChannelBook } from "../notify/channel-book.ts";
import type { Logger } from "../log.ts";
import { observeAlertTimes, type ServerMetrics } from "../observability/metrics.ts";
import type { ControlStore } from "../storage/control-store.ts";
import { runsInPm2Cluster } from "../config/process-env.ts";

/** How far back an agent-window shard reads when it first meets an agent. */
const REBUILD_HORIZON_MS = 60 * 60_000;
/** No sender may hold more than 1/8 of ingest's places (but always 16): one agent cannot starve the others. */
const SENDERS_TO_FILL = 8;
const MIN_PER_SENDER = 16;
/** How often the notifier looks for due deliveries (new events also wake it at once). */
const NOTIFIER_TICK_MS = 500;

/** The actor system of one server process, from ingest to the notifier. */
export interface Actors {
  ingest: IngestPool;
  intake: Intake;
  window: WindowShards;
  evaluator: EvaluatorShards;
  alerts: AlertEngine;
  channels: ChannelBook;
  notifier: NotifierActor;
  /** Every sharded actor's name, mailbox depth, restarts and liveness. */
  shardStats(): { name: string; depth: number; restarts: number; alive: boolean }[];
  /** Stops ingest first (what it took in is written), then the rest in the order data flows. */
  close(): Promise<void>;
}

/**
 * Starts the actors and wires them: ingest feeds the agent-window shards, whose observations
 * reach the rule-evaluators, whose events come back here (AlertWiring) and wake the notifier.
 */
export async function startActors(config: ServerConfig, control: ControlStore, requestBytes: ByteBudget, metrics: ServerMetrics, supervision: Supervision, log: Logger): Promise<Actors> {
  const { actors: sizes } = config;
  const windowFeed = windowFeedSettings(sizes.window_shards, sizes.mailbox_size, sizes.ingest_threads);
  const ingest = new IngestPool({
    threads: sizes.ingest_threads,
    queue: sizes.ingest_queue,
    workerData: { dataDir: config.data_dir, retentionDays: config.retention_days, requireAgentAuth: config.require_agent_auth, windowFeed, peers: runsInPm2Cluster(), remoteWrite: config.remote_write.length > 0 },
    registry: control,
    ...supervision,
  });
  const window = new WindowShards({
    shards: sizes.window_shards,
    mailboxSize: sizes.mailbox_size,
    workerData: { dataDir: config.data_dir, rebuildHorizonMs: REBUILD_HORIZON_MS, evaluatorShards: sizes.evaluator_shards, windowFeed },
    ...supervision,
  });
  const evaluator = new EvaluatorShards({
    shards: sizes.evaluator_shards,
    mailboxSize: sizes.mailbox_size,
    workerData: { dataDir: config.data_dir },
    ...supervision,
  });
  const alerts = new AlertEngine(new RuleBook(config.alert.rules, control.alerts), window, evaluator, log.child({ component: "alerts" }));
  const wiring = new AlertWiring(window, evaluator, (message) => {
    try {
      if (message.times) observeAlertTimes(metrics, message.events.length, message.times, preciseNow());
      alerts.received(message);
    } catch (err) {
      // A listener's fault must not end the process; the events are stored already.
      log.error({ err }, "handling alert events failed");
    }
  }, log.child({ component: "alert-wiring" }));
  const channels = new ChannelBook(structuredClone(config.notification.channels) as ChannelConfig[],
    structuredClone(config.notification.silence_windows) as SilenceWindowConfig[], control.notify);
  const notifier = new NotifierActor({
    mailboxSize: sizes.mailbox_size,
    workerData: {
      dataDir: config.data_dir,
      configChannels: channels.configChannels,
      configSilences: channels.configSilences,
      groupWaitMs: config.notification.group_wait_secs * 1000,
      aggregationWindowMs: config.notification.aggregation_window_secs * 1000,
      maxDeliveryAgeMs: config.notification.max_delivery_age_secs * 1000,
      tickMs: NOTIFIER_TICK_MS,
      quickBaseMs: config.notification.quick_retry_ms,
      slowBaseMs: config.notification.slow_retry_secs * 1000,
    } satisfies NotifierWorkerData,
    ...supervision,
  });
  alerts.onEvent(() => notifier.kick());
  const close = async () => {
    alerts.stop();
    await ingest.close();
    await control.flushLastSeen(); // now, before anything below can fail: agents reconnect to a peer that reads it
    wiring.close();
    await window.close();
    await evaluator.close();
    await notifier.close();
  };
  try {
    await wiring.start();
    await alerts.start();
  } catch (err) {
    // Every thread above has started: none may outlive a failed start.
    await close().catch(() => undefined);
    throw err;
  }
  const admission = new Admission({
    requireAgentAuth: config.require_agent_auth,
    agentOfToken: (token) => control.whitelist.agentOfToken(token),
    refresh: () => control.env.resetReadTxn(),
    bytes: requestBytes,
    perSender: Math.max(MIN_PER_SENDER, Math.floor(ingest.acceptsAtOnce / SENDERS_TO_FILL)),
  });
  // Garbage worth a collection: as many bytes of reports as may be held at once.
  const quiet = () => requestBytes.inUse === 0;
  const garbage: IdleCollector = new IdleCollector({
    afterBytes: sizes.ingest_queue_bytes, idleMs: BURST_OVER_MS, busy: () => !quiet(),
    collect: () => collectEverywhere({
      stillQuiet: () => quiet() && garbage.quietFor(TRIM_AFTER_MS),
      done: (step) => metrics.memoryReleases.inc({ step }),
      cannotTrim: (reason) => log.info({ reason }, "malloc's free memory cannot be given back to the system here: it stays with the process, reusable"),
    }),
  });
  const intake = new Intake(ingest, admission, metrics, log.child({ component: "intake" }), garbage);

  return {
    ingest, intake, window, evaluator, alerts, channels, notifier,
    shardStats: () => [...window.shardStats(), ...evaluator.shardStats(), ...notifier.shardStats()],
    close,
  };
}
