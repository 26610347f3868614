import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { writeFileDurably } from "../../common/durable-write.ts";

/*
 * The update state, one JSON file (STATE_DIR/update/state.json) replaced atomically
 * (temporary file, fsync, rename, fsync of the directory): the launcher and the running
 * agent agree through it on which bundle runs, whether it is on trial, and what failed.
 * Bundles sit side by side in STATE_DIR/update/bundles/<version>/.
 */

/** Which bundle runs: a version under bundles/, or null for the installed one (beside the launcher). */
export type BundleSlot = string | null;

export interface UpdateState {
  current: BundleSlot;
  /** Where a failed trial rolls back to. */
  previous: BundleSlot;
  /**
   * `current` was just installed and has had no report acknowledged yet. `startedAt` is set by
   * the launcher when it starts it: a second start finding it set means the first run ended
   * without confirming (a crash, an exit, a restart), and rolls back. `outcome` is what the
   * trial run itself said before it gave up (no acknowledgement within the trial window).
   */
  trial?: { version: string; startedAt?: number; outcome?: string };
  /** The last update rolled back; reported to the server until a later update is confirmed. */
  failed?: { version: string; reason: string; at: number };
}

/** What the launcher does at a start: the bundle to run and the state to write first (when it changed). */
export interface BootDecision {
  run: BundleSlot;
  next: UpdateState | undefined;
  /** A rollback happened at this start (for the launcher's one line on stderr). */
  rolledBack?: { from: string; to: BundleSlot; reason: string };
}

const NOT_CONFIRMED = "it stopped before the server acknowledged a report (crashed, exited or was restarted during its trial)";

/** The launcher's decision, pure: `hasBundle` says whether a version's bundle is on disk. */
export function decideBoot(state: UpdateState | undefined, nowMs: number, hasBundle: (version: string) => boolean): BootDecision {
  if (!state || state.current === null) return { run: null, next: undefined };
  const current = state.current;
  const fallback = state.previous !== null && hasBundle(state.previous) ? state.previous : null;
  const onTrial = state.trial?.version === current;
  if (!hasBundle(current) || (onTrial && state.trial!.startedAt !== undefined)) {
    const reason = !hasBundle(current) ? "its bundle is missing from the state directory" : state.trial!.outcome ?? NOT_CONFIRMED;
    return {
      run: fallback,
      next: { current: fallback, previous: null, failed: { version: current, reason, at: nowMs } },
      rolledBack: { from: current, to: fallback, reason },
    };
  }
  if (onTrial) return { run: current, next: { ...state, trial: { version: current, startedAt: nowMs } } };
  return { run: current, next: undefined };
}

/** The files of one state directory's updates. */
export class UpdateFiles {
  readonly dir: string;
  readonly bundles: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, "update");
    this.bundles = path.join(this.dir, "bundles");
  }

  bundleDir(version: string): string {
    return path.join(this.bundles, version);
  }

  /** A bundle is there once its directory holds the entry file (directories are renamed in whole). */
  hasBundle(version: string): boolean {
    return existsSync(path.join(this.bundleDir(version), "tsmon-agent.mjs"));
  }

  /** The state, or undefined before the first update; a file that does not parse is said so. */
  read(): UpdateState | undefined {
    let text: string;
    try {
      text = readFileSync(path.join(this.dir, "state.json"), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    const state = JSON.parse(text) as UpdateState;
    if (typeof state !== "object" || state === null || !("current" in state)) throw new Error(`${path.join(this.dir, "state.json")}: not an update state`);
    return state;
  }

  write(state: UpdateState): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileDurably(path.join(this.dir, "state.json"), Buffer.from(`${JSON.stringify(state, null, 2)}\n`));
  }

  /** Removes every bundle but `keep` (the current and previous ones). */
  prune(keep: readonly BundleSlot[]): void {
    if (!existsSync(this.bundles)) return;
    for (const name of readdirSync(this.bundles)) {
      if (!keep.includes(name)) rmSync(path.join(this.bundles, name), { recursive: true, force: true });
    }
  }
}
