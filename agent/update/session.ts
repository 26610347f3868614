import { readFileSync } from "node:fs";
import { parsePublicKey, compareVersions } from "../../common/agent-release.ts";
import type { AgentConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { downloadVerified, fetchLatest, type ReleaseSource } from "./fetch-release.ts";
import { installBundle } from "./install.ts";
import { LAUNCH_INFO, type LaunchInfo } from "./launcher.ts";
import { UpdateFiles, type UpdateState } from "./state.ts";

/**
 * The exit code after a self-update was installed, or after a version on trial gave up:
 * "start me again". systemd's unit (Restart=always) and PM2 restart on it; the launcher
 * then starts the new bundle, or rolls back.
 */
export const EXIT_UPDATE = 75;

/** How often a version on trial looks whether a report was acknowledged. */
const TRIAL_POLL_MS = 250;

export interface UpdateSession {
  /** The last update rolled back, sent in system_info until a later one is confirmed. */
  readonly failure: { version: string; reason: string } | undefined;
  /** Watches the trial (if this version is on one) and checks for updates; `restart` stops the agent and exits with EXIT_UPDATE. */
  start(agent: { stats(): { sent: number } }, restart: () => void): { stop(): void };
}

/**
 * This run's part in self-update (docs/agent-update.md): reads what the launcher decided
 * and the update state, says once why updates are off when they are, confirms a new version
 * once the server acknowledged one of its reports (or gives up after update_trial_secs), and
 * checks the server at start and every update_check_hours.
 */
export function openUpdateSession(config: AgentConfig, log: Logger, version: string): UpdateSession {
  const launch = (globalThis as Record<symbol, unknown>)[LAUNCH_INFO] as LaunchInfo | undefined;
  const files = new UpdateFiles(config.stateDir);
  if (launch?.rolledBack) {
    log.error({ failedVersion: launch.rolledBack.from, runningVersion: version, reason: launch.rolledBack.reason }, "rolled back a failed self-update");
  }
  let state: UpdateState | undefined;
  const off = offReason(config, launch);
  if (launch && launch.stateDir === config.stateDir) {
    try {
      state = files.read();
    } catch (err) {
      log.warn({ err, dir: files.dir }, "cannot read the update state; self-update skips this run");
    }
  }
  if (off) log.info({ reason: off }, "self-update is off");
  const onTrial = state?.trial?.version === version && state.current === version && launch?.running === version;

  return {
    // The server takes system_info strings of up to 256 printable characters.
    failure: state?.failed ? { version: state.failed.version, reason: state.failed.reason.replace(/[\x00-\x1f\x7f]/g, " ").slice(0, 200) } : undefined,
    start(agent, restart) {
      const timers: NodeJS.Timeout[] = [];
      let stopped = false;
      const checks = () => {
        if (off || stopped) return;
        const checker = updateChecker(config, log, version, files, launch!, state, restart);
        void checker();
        const every = setInterval(() => void checker(), config.update.checkHours * 3600_000);
        every.unref();
        timers.push(every);
      };
      if (onTrial) {
        const started = Date.now();
        const watch = setInterval(() => {
          if (agent.stats().sent > 0) {
            clearInterval(watch);
            state = { current: version, previous: state!.previous };
            try {
              files.write(state);
              files.prune([version, state.previous]);
            } catch (err) {
              // Unconfirmed, the next start rolls back: the state dir must be writable.
              log.error({ err, dir: files.dir }, "cannot record that this self-update is confirmed");
            }
            log.info({ version, previous: state.previous ?? "the installed bundle" }, "self-update confirmed: the server acknowledged a report of this version");
            checks();
          } else if (Date.now() - started > config.update.trialSecs * 1000) {
            clearInterval(watch);
            const outcome = `no report acknowledged within ${config.update.trialSecs} s of starting`;
            try {
              files.write({ ...state!, trial: { ...state!.trial!, outcome } });
            } catch (err) {
              log.error({ err, dir: files.dir }, "cannot record why this trial failed");
            }
            log.error({ version, previous: state!.previous ?? "the installed bundle" }, `self-update on trial: ${outcome}; exiting with code ${EXIT_UPDATE} so the next start rolls back`);
            restart();
          }
        }, TRIAL_POLL_MS);
        timers.push(watch);
      } else checks();
      return {
        stop() {
          stopped = true;
          for (const t of timers) clearInterval(t);
        },
      };
    },
  };
}

/** Why this run does not check for updates, or undefined when it does. */
function offReason(config: AgentConfig, launch: LaunchInfo | undefined): string | undefined {
  if (!config.update.publicKey) return "no update_public_key configured: releases could not be verified";
  if (!config.update.auto) return "auto_update = false";
  if (!launch) return "the agent was not started by its launcher (bin/tsmon-agent.js with a built dist/): there is no bundle to swap";
  if (launch.stateDir !== config.stateDir) return `the launcher found state_dir ${launch.stateDir}, the configuration says ${config.stateDir}`;
  return undefined;
}

/** One check: the latest release, and when it is newer (and not the one rolled back), download, verify, install, restart. */
function updateChecker(config: AgentConfig, log: Logger, version: string, files: UpdateFiles, launch: LaunchInfo, state: UpdateState | undefined, restart: () => void): () => Promise<void> {
  const publicKey = parsePublicKey(config.update.publicKey!);
  // ca_file signs the server's certificate: the REST port presents the same one.
  const source: ReleaseSource = { baseUrl: config.update.url, authToken: config.authToken, caPem: config.caFile ? readFileSync(config.caFile) : undefined };
  let running = false;
  let skippedNoted: string | undefined;
  return async () => {
    if (running) return;
    running = true;
    let latest;
    try {
      latest = await fetchLatest(source);
      if (!latest || compareVersions(latest.version, version) <= 0) return;
      if (latest.version === state?.failed?.version) {
        if (skippedNoted !== latest.version) log.warn({ version: latest.version, reason: state.failed.reason }, "not installing a release that was rolled back here; upload a newer version");
        skippedNoted = latest.version;
        return;
      }
      log.info({ from: version, to: latest.version, size: latest.size }, "self-update: downloading a newer release");
      const bundle = await downloadVerified(source, latest, publicKey);
      installBundle(files, latest.version, bundle, launch.running, state?.failed);
      log.info({ from: version, to: latest.version, exitCode: EXIT_UPDATE }, `self-update installed; exiting with code ${EXIT_UPDATE} so the supervisor starts the new version`);
      restart();
    } catch (err) {
      log.error({ err: (err as Error).message, release: latest?.version, runningVersion: version, updateUrl: config.update.url },
        latest ? `self-update refused: ${(err as Error).message}; still running ${version}` : "self-update check failed (update_url must be the server's REST port); trying again at the next check");
    } finally {
      running = false;
    }
  };
}
