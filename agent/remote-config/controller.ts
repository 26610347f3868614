import { traceOnRequestDetail } from "../../common/check-events.ts";
import { readFileSync } from "node:fs";
import type { MetricPoint } from "../../common/metrics.ts";
import type { RunningChecks } from "../checks/start.ts";
import type { CheckEvent } from "../../common/check-events.ts";
import type { AgentConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { isEmptyConfig, RemoteConfigCache, type RemoteConfig } from "./cache.ts";
import type { CombinedChecks } from "./combine.ts";
import { watchRemoteConfig, type WatchFailure } from "./watch.ts";
import type { AgentCommand } from "./wire.ts";

export interface RemoteConfigOptions {
  log: Logger;
  /** Watch the server for its config (default: with the gRPC transport). */
  watch: boolean;
  checkConcurrency?: number | undefined;
  /** Hears a new effective collection interval. */
  onInterval(secs: number): void;
  /** The channel options of the report sender, so both share one connection. */
  channelOptions: Record<string, number>;
  backoff?: { initialMs: number; maxMs: number };
}

/** What the agent runs by the server's word and its own: the checks, the interval, the collector switches. */
export interface RemoteConfigControl {
  /** Every running check, local and server-managed, whichever set is current. */
  readonly checks: RunningChecks;
  intervalSecs(): number;
  collectorOn(name: string): boolean;
  /** The server-managed config in force (from the server or the cache), if any. */
  current(): RemoteConfig | undefined;
  stop(): Promise<void>;
}

/**
 * Runs the agent's checks as local `[[checks]]` ∪ server-managed checks (the server's
 * winning a name both have), with the server's interval and collector switches over the
 * file's. Starts at once with the cached server config (or none), then follows what
 * WatchAgentConfig sends: a new version stops the old checks and starts the new set, and
 * is cached on disk. A version equal to the running one changes nothing.
 */
export async function startRemoteConfig(config: AgentConfig, options: RemoteConfigOptions): Promise<RemoteConfigControl> {
  const { log } = options;
  const cache = new RemoteConfigCache(config.stateDir);
  let remote = cache.read((message) => log.warn(message));
  /** The version last applied (the cache's at start): the same version again changes nothing. */
  let appliedVersion = remote?.version;
  /** The server-managed tables running: a config that changes only settings restarts no check. */
  let runningTables: string | undefined;
  let fromServer = false;
  let lastFailure: WatchFailure | undefined;
  let running: RunningChecks | undefined;
  let combined: CombinedChecks = { checks: [...config.checks], skipped: [], remote: 0, local: config.checks.length };
  let interval = remote?.collectionIntervalSecs ?? config.collectionIntervalSecs;
  const leftover: MetricPoint[] = [];
  const leftoverEvents: CheckEvent[] = [];
  let applying = Promise.resolve();
  let stopped = false;

  /** Applies a server-managed config (or none): its checks when they differ from those running, and its interval. */
  const run = async (next: RemoteConfig | undefined) => {
    const tables = next?.checks ?? [];
    const tablesText = JSON.stringify(tables);
    if (tablesText !== runningTables) await restartChecks(tables);
    runningTables = tablesText;
    const nextInterval = next?.collectionIntervalSecs ?? config.collectionIntervalSecs;
    if (nextInterval !== interval && !stopped) {
      interval = nextInterval;
      log.info({ intervalSecs: interval }, "collection interval changed by the server's config");
      options.onInterval(interval);
    }
  };

  /** Starts local ∪ `tables` in place of the running checks; loads the check types (and zod) only when there are checks. */
  const restartChecks = async (tables: unknown[]) => {
    if (tables.length || config.checks.length) {
      const [{ validateCheckTables }, { combineChecks }] = await Promise.all([import("../checks/definitions.ts"), import("./combine.ts")]);
      combined = combineChecks(config.checks, tables, validateCheckTables);
    } else combined = { checks: [], skipped: [], remote: 0, local: 0 };
    for (const line of combined.skipped) log.warn(`checks: not running server-managed check ${line}`);
    if (running) {
      leftover.push(...running.drain()); // the old set's last results still go out
      leftoverEvents.push(...running.drainEvents());
      await running.stop();
      running = undefined;
    }
    if (stopped) return;
    if (combined.checks.length) running = (await import("../checks/start.ts")).startChecks(combined.checks, log, { maxConcurrent: options.checkConcurrency });
  };

  const describe = (cached: boolean) => {
    const remoteText = `${combined.remote} ${cached ? "cached " : ""}server-managed`;
    if (combined.remote && combined.local) return `${remoteText} and ${combined.local} local checks`;
    if (combined.remote) return `${remoteText} checks`;
    return combined.local ? `${combined.local} local checks` : "no checks";
  };

  const onConfig = (next: RemoteConfig) => {
    applying = applying.then(async () => {
      if (stopped) return;
      const first = !fromServer;
      fromServer = true;
      lastFailure = undefined;
      if (next.version === appliedVersion) {
        if (first) log.info(`checks: running ${describe(false)} (the server's config, version ${next.version}, as cached)`);
        return;
      }
      remote = isEmptyConfig(next) ? undefined : next;
      appliedVersion = next.version;
      await run(remote);
      try {
        cache.write(next);
      } catch (err) {
        log.warn({ err, file: cache.file }, "could not cache the server's config; a start while the server is unreachable runs the previous one");
      }
      log.info({ version: next.version }, `checks: running ${describe(false)} (from the server)`);
    }).catch((err: unknown) => log.error({ err }, "applying the server's config failed; keeping the checks running"));
  };

  const onFailure = (kind: WatchFailure, message: string) => {
    if (kind === lastFailure) return; // said once; the watch keeps retrying quietly
    lastFailure = kind;
    if (fromServer) {
      log.warn({ reason: message }, `config stream from the server lost; keeping ${describe(false)}, reconnecting`);
      return;
    }
    const why = kind === "unimplemented" ? "the server has no remote config: WatchAgentConfig is unimplemented"
      : kind === "refused" ? `the server refused the config request: ${message}` : "server unreachable";
    const cacheNote = remote || kind === "unimplemented" ? "" : ", no cached server-managed checks";
    log.info({ reason: message }, `checks: running ${describe(remote !== undefined)} (${why}${cacheNote})`);
  };

  /** The server's commands: "traceroute" traces the path to a check's host now (POST /v1/checks/:id/traceroute). */
  const onCommand = (command: AgentCommand) => {
    let args: { check?: unknown };
    try {
      args = JSON.parse(command.argsJson || "{}") as { check?: unknown };
    } catch {
      args = {};
    }
    if (command.kind !== "traceroute" || typeof args.check !== "string") {
      log.warn({ command: command.kind, id: command.id }, `ignoring the server's command ${command.kind}: this agent knows only traceroute with a check name`);
      return;
    }
    if (!running?.traceNow(args.check, traceOnRequestDetail(command.id))) {
      log.warn({ check: args.check, id: command.id }, `the server asked to trace check ${args.check}: no such check runs here (or traces enough are running)`);
    } else log.info({ check: args.check, id: command.id }, `tracing the path of check ${args.check}, as the server asked`);
  };

  await run(remote);
  const watch = options.watch ? watchRemoteConfig({
    target: config.grpcTarget, tls: config.tls, caPem: config.caFile ? readFileSync(config.caFile) : undefined,
    authToken: config.authToken, agentId: config.agentId, advertiseAddress: config.advertiseAddress,
    knownVersion: () => remote?.version ?? "", onConfig, onFailure, onCommand, backoff: options.backoff,
  }, options.channelOptions) : undefined;

  return {
    checks: {
      drain: () => [...leftover.splice(0), ...(running?.drain() ?? [])],
      drainEvents: () => [...leftoverEvents.splice(0), ...(running?.drainEvents() ?? [])],
      state: (name) => running?.state(name),
      traceNow: (name, detail) => running?.traceNow(name, detail) ?? false,
      stop: async () => { await running?.stop(); },
    },
    intervalSecs: () => interval,
    collectorOn: (name) => remote?.collectors[name] ?? true,
    current: () => remote,
    async stop() {
      stopped = true;
      watch?.close();
      await applying;
      await running?.stop();
    },
  };
}
