import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseToml } from "smol-toml";
import { defaultStateDir } from "../state-dir.ts";
import { decideBoot, UpdateFiles, type BundleSlot } from "./state.ts";

/*
 * The stable launcher (built as dist/tsmon-agent-launcher.mjs, run by bin/tsmon-agent.js).
 * It is part of the installed release and never replaced by a self-update, so a broken new
 * bundle cannot break it: at every start it reads the update state, rolls back a trial that
 * ended unconfirmed, and imports the chosen bundle's entry in this same process (one node
 * process, no supervisor of its own: PM2 or systemd restarts it).
 */

/** What the launcher tells the bundle it started (agent/update/session.ts reads it). */
export interface LaunchInfo {
  stateDir: string;
  /** The bundle running: a version under the state dir, or null for the installed one. */
  running: BundleSlot;
  rolledBack?: { from: string; to: BundleSlot; reason: string };
}

export const LAUNCH_INFO = Symbol.for("tsmon.agent.launch");

/** Flags of the agent that take no value: every other `--flag` takes the next argument. */
const BOOLEAN_FLAGS = new Set(["--tls", "--help", "-h", "--version", "-V"]);

/**
 * The state dir the agent's configuration will name, read leniently (flag, then
 * TSMON_AGENT_STATE_DIR, then the file's state_dir, then the default): this launcher may be
 * older than the bundle it starts, and must not refuse a field only the newer one knows.
 */
export function launcherStateDir(argv: readonly string[], env: Record<string, string | undefined>): string {
  let flag: string | undefined, configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith("--state-dir=")) flag = arg.slice("--state-dir=".length);
    else if (arg === "--state-dir") flag = argv[++i];
    else if (arg.startsWith("-")) {
      if (!arg.includes("=") && !BOOLEAN_FLAGS.has(arg)) i++;
    } else configFile ??= arg;
  }
  if (flag) return flag;
  if (env.TSMON_AGENT_STATE_DIR) return env.TSMON_AGENT_STATE_DIR;
  if (configFile) {
    try {
      const table = parseToml(readFileSync(configFile, "utf8")) as { state_dir?: unknown };
      if (typeof table.state_dir === "string" && table.state_dir) return table.state_dir;
    } catch {
      // The agent itself reports a file it cannot read or parse, with the details.
    }
  }
  return defaultStateDir(env);
}

/**
 * Decides which bundle this start runs (writing the state first when that changes it) and
 * returns its entry's URL; `installedEntry` is the bundle beside the launcher.
 */
export function chooseBundle(argv: readonly string[], env: Record<string, string | undefined>, installedEntry: URL, nowMs = Date.now()): { entry: URL; info: LaunchInfo } {
  const stateDir = launcherStateDir(argv, env);
  const files = new UpdateFiles(stateDir);
  let decision;
  try {
    decision = decideBoot(files.read(), nowMs, (v) => files.hasBundle(v));
    if (decision.next) files.write(decision.next);
  } catch (err) {
    // A state that cannot be read or written: the installed bundle always works.
    process.stderr.write(`tsmon-agent launcher: update state in ${files.dir} unusable (${(err as Error).message}); starting the installed bundle\n`);
    return { entry: installedEntry, info: { stateDir, running: null } };
  }
  const entry = decision.run === null ? installedEntry : pathToFileURL(path.join(files.bundleDir(decision.run), "tsmon-agent.mjs"));
  return { entry, info: { stateDir, running: decision.run, ...(decision.rolledBack ? { rolledBack: decision.rolledBack } : {}) } };
}
