import { performance } from "node:perf_hooks";
import type { SystemInfo } from "../common/metrics.ts";
import type { RunningChecks } from "./checks/start.ts";
import type { RemoteConfig } from "./remote-config/cache.ts";
import { collectBatch } from "./collect-batch.ts";
import type { Collector } from "./collectors/collector.ts";
import { createDefaultCollectors } from "./collectors/default-collectors.ts";
import type { AgentConfig } from "./config.ts";
import { createAgentLogger, type Logger } from "./log.ts";
import { MemoryQueue, type ReportQueue } from "./report-queue.ts";
import { Reporter, type ReporterStats } from "./reporter.ts";
import type { BackoffPolicy } from "./retry-policy.ts";
import { grpcChannelOptions, type Sender } from "./sender.ts";
import { Spool } from "./spool.ts";
import { readSystemInfo } from "./system-info.ts";
import { createSender } from "./transport.ts";
import { ReportGatherer } from "./report-gatherer.ts";
import { startHealthLog } from "./health-log.ts";
import { startRemoteConfig } from "./remote-config/controller.ts";

export interface AgentOptions {
  /** Replaces the platform's collectors (tests, scripts). */
  collectors?: Collector[];
  /** Host facts sent with every batch; default read at start, `null` sends none. */
  systemInfo?: SystemInfo | null;
  logger?: Logger;
  /** Replaces the gRPC client built from the config. */
  sender?: Sender;
  /** Keeps reports in memory (bounded by buffer_max_size) instead of the disk spool: tests that leave nothing on disk. */
  memoryQueue?: boolean;
  /** Period of the one-line health summary (default 10 minutes). */
  healthIntervalMs?: number;
  /** Wall clock for batch timestamps (default Date.now). */
  now?: () => number;
  /** Bound on the last flush at stop (default 3000 ms). */
  flushTimeoutMs?: number;
  /** Per-call gRPC deadline (default 10 000 ms). */
  sendDeadlineMs?: number;
  backoff?: BackoffPolicy;
  /** Probes in flight at once over all checks (default: the config's check_concurrency). */
  checkConcurrency?: number;
  /** Follow the server's config (WatchAgentConfig); default: with the gRPC transport and the built-in sender. */
  remoteConfig?: boolean;
  /** Reconnection waits of the config watch (default 1 s doubling to 30 s). */
  remoteConfigBackoff?: { initialMs: number; maxMs: number };
}

export interface AgentStats extends ReporterStats {
  /** Batches collected (each one interval apart). */
  collected: number;
  /** The spool's stream identity (the server's exactly-once keys are under it). */
  streamId: string;
}

export interface AgentHandle {
  readonly config: AgentConfig;
  stats(): AgentStats;
  /** The running checks (local and server-managed) and their latest state. */
  readonly checks: RunningChecks;
  /** The server-managed config in force (from the server, or cached), if any. */
  remoteConfig(): RemoteConfig | undefined;
  /** Stops collecting, tries once more to send the buffer (bounded), closes the channel. */
  stop(): Promise<void>;
}

/** The first collection comes this soon after start (or after one interval, if shorter). */
const FIRST_COLLECTION_MS = 1_000;

/**
 * Runs an agent in this process: one second after start-up (so a new host shows up at
 * once; its first rates and CPU figures span that second), then every
 * `collectionIntervalSecs`, collects one batch and hands it to the reporter. Ticks follow
 * a fixed schedule and do not drift; a tick that comes while the previous collection
 * still runs is skipped.
 */
export async function startAgent(config: AgentConfig, options: AgentOptions = {}): Promise<AgentHandle> {
  const log = options.logger ?? createAgentLogger();
  const now = options.now ?? Date.now;
  let intervalMs = config.collectionIntervalSecs * 1000;
  const collectors = options.collectors ?? await createDefaultCollectors({
    gpu: { notice: (message) => log.info(message) },
    dirSize: {
      paths: config.slowPaths, intervalSecs: config.slowIntervalSecs, maxFiles: config.slowMaxFiles, maxSeconds: config.slowMaxSecs,
      notice: (message) => log.warn(message),
    },
  });
  const systemInfo = options.systemInfo === null ? undefined : options.systemInfo ?? await readSystemInfo();
  const maxReconnectBackoffMs = Math.min(30_000, intervalMs);
  const sender = options.sender ?? createSender(config, { log, deadlineMs: options.sendDeadlineMs, maxReconnectBackoffMs });
  const queue: ReportQueue = options.memoryQueue ? new MemoryQueue(config.bufferMaxSize) : Spool.open({
    dir: config.spoolDir, maxBytes: config.spoolMaxBytes, maxReports: config.bufferMaxSize, notice: (message) => log.warn(message),
  });
  if (queue.size > 0) log.info({ reports: queue.size, spoolBytes: queue.bytes, spoolDir: config.spoolDir }, "spool holds reports from before the start: sending them first");
  const reporter = new Reporter({ sender, queue, log, backoff: options.backoff, drainPerSec: config.drainReportsPerSec });
  // report_interval_secs: the collections of that period go in one report.
  const gatherer = new ReportGatherer(Math.round(config.reportIntervalSecs / config.collectionIntervalSecs), (report) => reporter.enqueue(report));
  // Local [[checks]] and the server's (cached until it answers), its interval and collector switches.
  const remote = await startRemoteConfig(config, {
    log, checkConcurrency: options.checkConcurrency ?? config.checkConcurrency, backoff: options.remoteConfigBackoff,
    watch: options.remoteConfig ?? (config.transport === "grpc" && !options.sender),
    channelOptions: grpcChannelOptions(maxReconnectBackoffMs),
    onInterval: (secs) => {
      intervalMs = secs * 1000;
      // The next tick comes one new interval from now, not at the old schedule's.
      nextAt = performance.now() + intervalMs;
      clearTimeout(timer);
      scheduleNext();
    },
  });
  intervalMs = remote.intervalSecs() * 1000;
  const checks = remote.checks;
  const failing = new Map<string, string>();
  let collected = 0;
  let collecting = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const collectOnce = async () => {
    collecting = true;
    try {
      const batch = await collectBatch(collectors.filter((c) => remote.collectorOn(c.name)), {
        agentId: config.agentId,
        timestampMs: now(),
        systemInfo,
        onError: (name, err) => {
          const message = err instanceof Error ? err.message : String(err);
          // Once per distinct failure: a collector that can never work must not flood the log.
          if (failing.get(name) !== message) log.warn({ collector: name, err }, "collector failed; its metrics are left out");
          failing.set(name, message);
        },
        onSuccess: (name) => {
          if (failing.delete(name)) log.info({ collector: name }, "collector works again");
        },
      });
      // Check results ride in the next report rather than in batches of their own: the
      // server keeps seeing one report per interval (its admission limits and
      // buffer_max_size's "2.8 hours at 10 s" both count reports), and each point keeps
      // the time its probe started, so waiting for the report costs no accuracy.
      const checkPoints = checks.drain();
      const checkEvents = checks.drainEvents();
      let report = batch;
      if (report) report.points.push(...checkPoints);
      else if (checkPoints.length || checkEvents.length) report = { agentId: config.agentId, timestampMs: now(), points: checkPoints, ...(systemInfo ? { systemInfo } : {}) };
      if (report && checkEvents.length) report.checkEvents = checkEvents;
      if (report && !stopped) {
        collected++;
        gatherer.add(report);
      } else if (!report) log.warn("no collector produced a point; nothing to report this interval");
    } finally {
      collecting = false;
    }
  };

  // First collection soon after start (rates then span that first second), then every interval.
  let nextAt = performance.now() + Math.min(intervalMs, FIRST_COLLECTION_MS);
  const scheduleNext = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      if (!collecting) void collectOnce().catch((err) => log.error({ err }, "collection failed"));
      else log.warn("previous collection still running; skipping this interval");
      // A fixed schedule that does not drift; ticks missed while the process was stalled are skipped.
      nextAt += intervalMs;
      const now = performance.now();
      if (nextAt < now) nextAt += Math.ceil((now - nextAt) / intervalMs) * intervalMs;
      scheduleNext();
    }, nextAt - performance.now());
  };
  scheduleNext();
  const health = startHealthLog(() => reporter.stats(), log, options.healthIntervalMs ?? 600_000);

  log.info({ agentId: config.agentId, serverEndpoint: config.serverEndpoint, transport: config.transport, tls: config.tls,
    intervalSecs: intervalMs / 1000, reportIntervalSecs: config.reportIntervalSecs, bufferMaxSize: config.bufferMaxSize,
    spoolDir: options.memoryQueue ? undefined : config.spoolDir, spoolMaxBytes: config.spoolMaxBytes, streamId: queue.streamId,
    auth: config.authToken ? "token" : "none", collectors: collectors.map((c) => c.name), systemInfo }, "agent started");

  let stopping: Promise<void> | undefined;
  return {
    config,
    checks,
    remoteConfig: () => remote.current(),
    stats: () => ({ ...reporter.stats(), collected, streamId: queue.streamId }),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        clearTimeout(timer);
        health.stop();
        await remote.stop();
        gatherer.flush(); // the collections of an unfinished report period
        await reporter.flush(options.flushTimeoutMs ?? 3000);
        sender.close();
        queue.close();
        log.info(reporter.stats(), "agent stopped");
      })();
      return stopping;
    },
  };
}
