import type { ServerConfig } from "./config/load.ts";
import type { Supervision } from "./actors/runtime/restart-policy.ts";
import type { IngestPool } from "./actors/ingest/ingest-pool.ts";
import type { Intake } from "./actors/ingest/intake.ts";
import type { WindowShards } from "./actors/window/window-shards.ts";
import type { EvaluatorShards } from "./actors/evaluator/evaluator-shards.ts";
import type { AlertEngine } from "./alerts/engine.ts";
import { startAuth } from "./auth/auth.ts";
import { ByteBudget } from "./actors/ingest/byte-budget.ts";
import { loadExtraCa, type CertChecker } from "./certs/checker.ts";
import type { ResolveAddresses } from "./certs/resolve.ts";
import type { Lifecycle } from "./http/context.ts";
import { preflight } from "./config/preflight.ts";
import { createLogger, type Logger } from "./log.ts";
import { createServerMetrics } from "./observability/metrics.ts";
import { ControlStore } from "./storage/control-store.ts";
import { AgentConfigStore } from "./agent-config/store.ts";
import { WatchHub } from "./agent-config/watch-hub.ts";
import { AgentCommandStore } from "./agent-config/commands.ts";
import { MetricStore } from "./storage/metric-store.ts";
import { PartitionSet } from "./storage/partitions.ts";
import { startActors, type Actors } from "./start/actors.ts";
import { startJobs, type Jobs } from "./start/jobs.ts";
import { feedLive, startLive } from "./start/live.ts";
import { startTransports, type Transports } from "./start/transports.ts";
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

/**
 * One server process: storage, then the actors (start/actors.ts), the live feed, the
 * scheduled jobs (start/jobs.ts) and last the transports that let reports in
 * (start/transports.ts). Shutdown runs the other way round.
 */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger(config.log_level);
  const onFatal = options.onFatal ?? ((reason: string) => {
    log.fatal({ reason }, "stopping: a worker pool is crash-looping");
    process.exit(1);
  });
  await preflight(config);
  const certExtraCa = loadExtraCa(config.cert_check.ca_file);
  const partitions = new PartitionSet(config.data_dir, config.retention_days);
  const store = new MetricStore(partitions);
  const control = new ControlStore(config.data_dir, (err) => log.error({ err }, "could not write agents' last_seen; retrying"));
  // What has started, stopped in reverse should a later part fail to start (a port in use).
  const started: (() => Promise<void>)[] = [() => control.close(), () => partitions.closeAll()];
  const unwind = async (err: unknown): Promise<never> => {
    for (const stop of started.reverse()) await stop().catch((e: unknown) => log.error({ err: e }, "stopping after a failed start-up"));
    throw err;
  };
  const supervision: Supervision = {
    policy: { baseMs: 100, maxMs: 10_000, maxPerMinute: config.actors.max_restarts_per_minute },
    onCrashLoop: (name, error) => onFatal(`${name}: ${String(error)}`),
    onRestart: (name, error) => log.error({ err: error, actor: name }, "actor worker crashed; restarting"),
  };

  const requestBytes = new ByteBudget(config.actors.ingest_queue_bytes);
  // Read at scrape time only, by when every part below has started.
  let actors!: Actors, jobs!: Jobs, transports!: Transports;
  const metrics = createServerMetrics({
    actors: () => [
      { actor: "ingest", depth: actors.ingest.queueSize, restarts: actors.ingest.restarts },
      { actor: "cert-checker", depth: jobs.certPool.depth, restarts: jobs.certPool.restarts },
      ...actors.shardStats().map((s) => ({ actor: s.name, depth: s.depth, restarts: s.restarts })),
    ],
    partitions: () => [...partitions.files.sizes(), { partition: "control", bytes: control.sizeBytes() }],
    live: () => ({ clients: live.hub.stats().clients, dropped: live.hub.stats().dropped + live.relay.droppedCount }),
    window: () => actors.window.stats(),
    windowFeed: () => actors.window.feedTotals(),
    notifications: () => actors.notifier.outcomes(),
    reportStreams: () => transports.reportStreams.size,
    requestBytes: () => ({ inUse: requestBytes.inUse, limit: requestBytes.limit }),
  });

  actors = await startActors(config, control, requestBytes, metrics, supervision, log).catch(unwind);
  started.push(() => actors.close());
  const live = await startLive(control, config.data_dir, log).catch(unwind);
  started.push(() => live.relay.close());
  feedLive(live, actors.ingest, actors.intake, actors.alerts, metrics, log);
  const auth = await startAuth(config, control, log.child({ component: "auth" })).catch(unwind);
  jobs = await startJobs(config, { partitions, control, intake: actors.intake, auth, metrics, supervision, log, certExtraCa, certResolve: options.certResolve }).catch(unwind);
  started.push(() => jobs.close());
  const lifecycle: Lifecycle = {
    shuttingDown: false,
    ready: () => ({ storage: control.isOpen(), actors: actors.ingest.threads > 0 && actors.shardStats().every((s) => s.alive) }),
  };
  const agentConfigStore = new AgentConfigStore(control.env);
  const agentCommands = new AgentCommandStore(control.env);
  const agentConfig = {
    store: agentConfigStore, commands: agentCommands,
    hub: new WatchHub(agentConfigStore, config.reachability, log.child({ component: "agent-config" }), agentCommands),
  };
  transports = await startTransports(config, {
    requestBytes, control, auth, store, partitions, metrics, lifecycle, intake: actors.intake, window: actors.window, alerts: actors.alerts,
    channels: actors.channels, notifier: actors.notifier, certs: jobs.certs, agentConfig, version: VERSION, startedAt: Date.now(), now: Date.now,
  }, live.hub, log).catch(unwind);

  let closed: Promise<void> | undefined;
  const close = () => (closed ??= (async () => {
    lifecycle.shuttingDown = true;
    // The reverse of start: no report or request comes in while the jobs and actors stop.
    await transports.close();
    await jobs.close();
    await live.relay.close();
    await actors.close();
    await partitions.closeAll();
    await control.close();
  })());

  const { ingest, intake, window, evaluator, alerts } = actors;
  return { grpcPort: transports.grpcPort, httpPort: transports.httpPort, alerts, intake, ingest, window, evaluator, certs: jobs.certs, close };
}
