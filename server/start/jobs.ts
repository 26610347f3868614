import type { ServerConfig } from "../config/load.ts";
import { CertCheckerPool } from "../actors/cert-checker/cert-checker-pool.ts";
import type { Supervision } from "../actors/runtime/restart-policy.ts";
import { startSealing } from "../actors/sealer/sealing.ts";
import type { Intake } from "../actors/ingest/intake.ts";
import type { Auth } from "../auth/auth.ts";
import { CertChecker, leaseTtlMs } from "../certs/checker.ts";
import type { ResolveAddresses } from "../certs/resolve.ts";
import { systemResolver } from "../certs/resolve.ts";
import type { Logger } from "../log.ts";
import type { ServerMetrics } from "../observability/metrics.ts";
import { CertStore } from "../storage/cert-store.ts";
import type { ControlStore } from "../storage/control-store.ts";
import { Lease } from "../storage/lease.ts";
import { startRemoteWrite } from "../remote-write/job.ts";
import type { PartitionSet } from "../storage/partitions.ts";
import { applyHistoryRetention, applyRetention } from "../storage/retention.ts";
import { DAY_MS } from "../storage/days.ts";

const RETENTION_EVERY_MS = 60 * 60_000;
/** A sealer lease outlives a stalled holder this long before another process takes over the compaction. */
const SEALER_LEASE_MS = 60_000;

export interface JobDeps {
  partitions: PartitionSet;
  control: ControlStore;
  intake: Intake;
  auth: Auth;
  metrics: ServerMetrics;
  supervision: Supervision;
  log: Logger;
  /** PEM of `[cert_check] ca_file`, read before anything starts (a missing file stops start-up early). */
  certExtraCa: string | null;
  certResolve?: ResolveAddresses;
}

export interface Jobs {
  certs: CertChecker;
  certPool: CertCheckerPool;
  /** Stops the timers and ends checks under way (their results are dropped). */
  close(): Promise<void>;
}

/** Work on a schedule rather than on a report: retention, compacting fresh data and sealing past days, certificate checks, remote_write. */
export async function startJobs(config: ServerConfig, deps: JobDeps): Promise<Jobs> {
  const { log } = deps;
  const retention = await startRetention(config, deps);
  const sealing = startSealing({
    partitions: deps.partitions, dataDir: config.data_dir, retentionDays: config.retention_days, everyMs: config.compact_interval_secs * 1000,
    lease: new Lease(deps.control.leases, "sealer", Math.max(SEALER_LEASE_MS, 3 * config.compact_interval_secs * 1000)), log: log.child({ component: "sealing" }),
  });
  const certPool = new CertCheckerPool({
    threads: config.actors.cert_checker_threads,
    perThread: Math.ceil(config.cert_check.max_concurrent / config.actors.cert_checker_threads),
    workerData: { extraCaPem: deps.certExtraCa },
    ...deps.supervision,
  });
  const certs = new CertChecker({
    settings: config.cert_check, store: new CertStore(deps.control.env), prober: certPool,
    lease: new Lease(deps.control.leases, "cert-check", leaseTtlMs(config.cert_check.tick_secs)),
    resolve: deps.certResolve ?? systemResolver(config.cert_check.connect_timeout_secs * 1000),
    intake: deps.intake, log: log.child({ component: "certs" }), now: Date.now,
    onResult: (result) => deps.metrics.certChecks.inc({ result: result.error_class ?? "ok" }),
  });
  certs.start();
  const remoteWrite = startRemoteWrite(config, { control: deps.control, registry: deps.metrics.registry, log });
  return {
    certs, certPool,
    async close() {
      retention.stop();
      await remoteWrite?.close();
      await sealing.stop();
      // Checks under way end with the pool (their results are dropped) before ingest closes.
      await certs.close();
      await certPool.close();
      await certs.drain();
    },
  };
}

/** Deletes expired partitions, old alert history, old check events and stale login records, now and every hour. */
async function startRetention(config: ServerConfig, { partitions, control, auth, log }: JobDeps): Promise<{ stop(): void }> {
  const pass = async () => {
    try {
      const dropped = await applyRetention(partitions, Date.now(), config.retention_days, config.rollup_retention_days);
      if (dropped.length) log.info({ dropped }, "retention deleted expired partitions");
      const pruned = await applyHistoryRetention(control, Date.now(), config.history_retention_days);
      if (pruned.history || pruned.log) log.info(pruned, "retention deleted old alert history and notification log entries");
      // Check events and traced paths are kept as long as the samples they explain.
      const checkEvents = await control.checkEvents.prune(Date.now() - config.retention_days * DAY_MS);
      if (checkEvents) log.info({ checkEvents }, "retention deleted check events and traceroutes older than retention_days");
      const loginRecords = await auth.throttle.prune(Date.now());
      if (loginRecords) log.info({ loginRecords }, "retention forgot login failures that no longer count");
    } catch (err) {
      log.error({ err }, "retention failed; will retry");
    }
  };
  await pass();
  const timer = setInterval(pass, RETENTION_EVERY_MS).unref();
  return { stop: () => clearInterval(timer) };
}
