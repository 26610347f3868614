import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { ServerConfig } from "./config/load.ts";
import type { ChannelConfig, SilenceWindowConfig } from "./config/schema.ts";
import { IngestPool } from "./actors/ingest/ingest-pool.ts";
import type { Supervision } from "./actors/runtime/restart-policy.ts";
import { WindowShards } from "./actors/window/window-shards.ts";
import { EvaluatorShards } from "./actors/evaluator/evaluator-shards.ts";
import { AlertEngine } from "./alerts/engine.ts";
import { RuleBook } from "./alerts/rule-book.ts";
import { NotifierActor } from "./actors/notifier/notifier-actor.ts";
import type { NotifierWorkerData } from "./actors/protocol/messages.ts";
import { windowFeedSettings } from "./actors/protocol/window-feed-layout.ts";
import { AlertWiring } from "./actors/evaluator/alert-wiring.ts";
import { preciseNow } from "./actors/runtime/precise-clock.ts";
import { ChannelBook } from "./notify/channel-book.ts";
import { CertCheckerPool } from "./actors/cert-checker/cert-checker-pool.ts";
import { CertChecker, leaseTtlMs, loadExtraCa } from "./certs/checker.ts";
import { systemResolver, type ResolveAddresses } from "./certs/resolve.ts";
import { CertStore } from "./storage/cert-store.ts";
import { Lease } from "./storage/lease.ts";
import { grpcServerOptions, metricServiceDefinition, metricServiceHandlers } from "./grpc/metric-service.ts";
import { ReportStreams } from "./grpc/report-stream.ts";
import { createHttpApp } from "./http/app.ts";
import type { Lifecycle } from "./http/context.ts";
import { Intake } from "./actors/ingest/intake.ts";
import { createLogger, type Logger } from "./log.ts";
import { createServerMetrics, observeAlertTimes } from "./observability/metrics.ts";
import { LiveHub } from "./live/hub.ts";
import { LiveRelay } from "./live/relay.ts";
import { attachLiveFeed } from "./live/ws-server.ts";
import { startAuth } from "./auth/auth.ts";
import { ControlStore } from "./storage/control-store.ts";
import { MetricStore } from "./storage/metric-store.ts";
import { PartitionSet } from "./storage/partitions.ts";
import { underPm2Cluster } from "./pm2-cluster.ts";
import { applyHistoryRetention, applyRetention } from "./storage/retention.ts";
import { startSealing } from "./actors/sealer/sealing.ts";
import { VERSION } from "./version.ts";

export interface StartOptions {
  log?: Logger;
  /** Called when a worker pool crash-loops; the default stops the process so PM2 restarts it. */
  onFatal?: (reason: string) => void;
  /** Resolves host names for certificate checks (tests map their names to loopback). */
  certResolve?: ResolveAddresses;
}

export interface RunningServer {
  grpcPort: number;
  alerts: AlertEngine;
  httpPort: number;
  intake: Intake;
  ingest: IngestPool;
  window: WindowShards;
  evaluator: EvaluatorShards;
  certs: CertChecker;
  /** Stops accepting, drains in-flight reports, closes storage. */
  close(): Promise<void>;
}

/** How far back an agent-window shard reads when it first meets an agent. */
const REBUILD_HORIZON_MS = 60 * 60_000;
const RETENTION_EVERY_MS = 60 * 60_000;
/** How often the lease holder looks for past days to seal into compressed columns. */
const SEAL_EVERY_MS = 10 * 60_000;
/** How often the notifier looks for due deliveries (new events also wake it at once). */
const NOTIFIER_TICK_MS = 500;
/** A live client with more than this unsent is skipped until it catches up. */
const LIVE_CLIENT_BUFFER_BYTES = 1024 * 1024;

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger(config.log_level);
  const onFatal = options.onFatal ?? ((reason: string) => {
    log.fatal({ reason }, "stopping: a worker pool is crash-looping");
    process.exit(1);
  });
  const certExtraCa = loadExtraCa(config.cert_check.ca_file);
  const partitions = new PartitionSet(config.data_dir, config.retention_days);
  const store = new MetricStore(partitions);
  const control = new ControlStore(config.data_dir, (err) => log.error({ err }, "could not write agents' last_seen; retrying"));

  const supervision: Supervision = {
    policy: { baseMs: 100, maxMs: 10_000, maxPerMinute: config.actors.max_restarts_per_minute },
    onCrashLoop: (name, error) => onFatal(`${name}: ${String(error)}`),
    onRestart: (name, error) => log.error({ err: error, actor: name }, "actor worker crashed; restarting"),
  };
  const windowFeed = windowFeedSettings(config.actors.window_shards, config.actors.mailbox_size, config.actors.ingest_threads);
  const ingest = new IngestPool({
    threads: config.actors.ingest_threads,
    queue: config.actors.ingest_queue,
    workerData: { dataDir: config.data_dir, retentionDays: config.retention_days, requireAgentAuth: config.require_agent_auth, windowFeed, peers: underPm2Cluster() },
    registry: control,
    ...supervision,
  });
  const window = new WindowShards({
    shards: config.actors.window_shards,
    mailboxSize: config.actors.mailbox_size,
    workerData: { dataDir: config.data_dir, rebuildHorizonMs: REBUILD_HORIZON_MS, evaluatorShards: config.actors.evaluator_shards, windowFeed },
    ...supervision,
  });
  const hub = new LiveHub(LIVE_CLIENT_BUFFER_BYTES, VERSION);
  const metrics = createServerMetrics({
    actors: () => [
      { actor: "ingest", depth: ingest.queueSize, restarts: ingest.restarts },
      { actor: "cert-checker", depth: certPool.depth, restarts: certPool.restarts },
      ...[...window.shardStats(), ...evaluator.shardStats(), ...notifier.shardStats()].map((s) => ({ actor: s.name, depth: s.depth, restarts: s.restarts })),
    ],
    partitions: () => [...partitions.sizes(), { partition: "control", bytes: control.sizeBytes() }],
    live: () => ({ clients: hub.stats().clients, dropped: hub.stats().dropped + relay.droppedCount }),
    window: () => window.stats(),
    windowFeed: () => window.feedTotals(),
    notifications: () => notifier.outcomes(),
    reportStreams: () => reportStreams.size,
  });
  const relay = new LiveRelay(control.livePeers, config.data_dir, hub, log.child({ component: "live" }));
  await relay.start();
  const evaluator = new EvaluatorShards({
    shards: config.actors.evaluator_shards,
    mailboxSize: config.actors.mailbox_size,
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
  await wiring.start();
  alerts.onEvent((event) => {
    metrics.alertEvents.inc({ rule: event.rule_name, state: event.status });
    log.info({ alert: event }, event.message);
    hub.publishAlert(event);
    relay.forwardAlert(event);
  });
  const channelBook = new ChannelBook(structuredClone(config.notification.channels) as ChannelConfig[],
    structuredClone(config.notification.silence_windows) as SilenceWindowConfig[], control.notify);
  const notifier = new NotifierActor({
    mailboxSize: config.actors.mailbox_size,
    workerData: {
      dataDir: config.data_dir,
      configChannels: channelBook.configChannels,
      configSilences: channelBook.configSilences,
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
  await alerts.start();
  const intake = new Intake(ingest, metrics, log.child({ component: "intake" }));
  intake.onAccepted((agentId, samples) => {
    hub.publish(agentId, samples);
    relay.forward(agentId, samples);
  });
  // Ingest threads send this thread a report's samples only while someone watches live, here or at a peer.
  const announceSamples = () => ingest.announceSamples(hub.hasClients || relay.forwarding);
  hub.onOccupancy = (hasClients) => {
    relay.setHasClients(hasClients);
    announceSamples();
  };
  relay.onForwarding = announceSamples;
  announceSamples();
  const certPool = new CertCheckerPool({
    threads: config.actors.cert_checker_threads,
    perThread: Math.ceil(config.cert_check.max_concurrent / config.actors.cert_checker_threads),
    workerData: { extraCaPem: certExtraCa },
    ...supervision,
  });
  const certs = new CertChecker({
    settings: config.cert_check, store: new CertStore(control.env), prober: certPool,
    lease: new Lease(control.leases, "cert-check", leaseTtlMs(config.cert_check.tick_secs)),
    resolve: options.certResolve ?? systemResolver(config.cert_check.connect_timeout_secs * 1000),
    intake, log: log.child({ component: "certs" }), now: Date.now,
    onResult: (result) => metrics.certChecks.inc({ result: result.error_class ?? "ok" }),
  });
  const lifecycle: Lifecycle = {
    shuttingDown: false,
    ready: () => ({
      storage: control.isOpen(),
      actors: ingest.threads > 0 && [...window.shardStats(), ...evaluator.shardStats(), ...notifier.shardStats()].every((s) => s.alive),
    }),
  };

  const tls = config.tls.enabled
    ? { cert: readFileSync(config.tls.cert_file!), key: readFileSync(config.tls.key_file!) }
    : undefined;

  const grpcServer = new grpc.Server(grpcServerOptions);
  const grpcLog = log.child({ component: "grpc" });
  const reportStreams = new ReportStreams(intake, metrics, grpcLog);
  grpcServer.addService(metricServiceDefinition, metricServiceHandlers(intake, reportStreams, grpcLog));
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false)
    : grpc.ServerCredentials.createInsecure();
  const grpcPort = await new Promise<number>((resolve, reject) => {
    grpcServer.bindAsync(`${config.bind_address}:${config.grpc_port}`, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });

  const auth = await startAuth(config, control, log.child({ component: "auth" }));
  const app = createHttpApp({
    config, log: log.child({ component: "http" }), control, auth, store, partitions, intake, metrics, lifecycle, window, alerts, channels: channelBook, notifier, certs,
    version: VERSION, startedAt: Date.now(), now: Date.now,
  });
  const httpServer = tls ? https.createServer(tls, app.callback()) : http.createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.http_port, config.bind_address, () => resolve());
  });
  const httpPort = (httpServer.address() as AddressInfo).port;
  const liveFeed = attachLiveFeed(httpServer as http.Server, hub, auth.authenticator, log.child({ component: "live" }));

  const retention = async () => {
    try {
      const dropped = await applyRetention(partitions, Date.now(), config.retention_days, config.rollup_retention_days);
      if (dropped.length) log.info({ dropped }, "retention deleted expired partitions");
      const pruned = await applyHistoryRetention(control, Date.now(), config.history_retention_days);
      if (pruned.history || pruned.log) log.info(pruned, "retention deleted old alert history and notification log entries");
      const loginRecords = await auth.throttle.prune(Date.now());
      if (loginRecords) log.info({ loginRecords }, "retention forgot login failures that no longer count");
    } catch (err) {
      log.error({ err }, "retention failed; will retry");
    }
  };
  await retention();
  const retentionTimer = setInterval(retention, RETENTION_EVERY_MS).unref();
  const sealing = startSealing({
    partitions, dataDir: config.data_dir, retentionDays: config.retention_days, everyMs: SEAL_EVERY_MS,
    lease: new Lease(control.leases, "sealer", 2 * SEAL_EVERY_MS), log: log.child({ component: "sealing" }),
  });
  certs.start();

  let closed: Promise<void> | undefined;
  const close = () => (closed ??= (async () => {
    lifecycle.shuttingDown = true;
    clearInterval(retentionTimer);
    await sealing.stop();
    if (config.http.shutdown_grace_ms) await new Promise((r) => setTimeout(r, config.http.shutdown_grace_ms));
    liveFeed.close();
    // Stop accepting first; in-flight gRPC calls complete against a still-running pool, and
    // open report streams answer what they took in, then end (their senders reconnect).
    const forced = setTimeout(() => grpcServer.forceShutdown(), 10_000).unref();
    await Promise.all([
      new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())),
      reportStreams.close(),
      new Promise<void>((resolve) => { httpServer.close(() => resolve()); httpServer.closeIdleConnections(); }),
    ]);
    clearTimeout(forced);
    await relay.close();
    // Checks under way end with the pool (their results are dropped) before ingest closes.
    await certs.close();
    await certPool.close();
    await certs.drain();
    alerts.stop();
    await ingest.close();
    await control.flushLastSeen(); // now, before anything below can fail: agents reconnect to a peer that reads it
    wiring.close();
    await window.close();
    await evaluator.close();
    await notifier.close();
    await partitions.closeAll();
    await control.close();
  })());

  return { grpcPort, httpPort, alerts, intake, ingest, window, evaluator, certs, close };
}
