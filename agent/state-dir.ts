import os from "node:os";
import path from "node:path";

/**
 * The agent's own files when state_dir is not set: systemd's StateDirectory=, else the
 * system's (as root) or the user's state directory. Shared by the configuration and the
 * update launcher (agent/update/launcher.ts), which must find the same place.
 */
export function defaultStateDir(env: Record<string, string | undefined> = process.env): string {
  if (env.STATE_DIRECTORY) return env.STATE_DIRECTORY.split(":")[0]!;
  if (process.getuid?.() === 0) return "/var/lib/tsmon-agent";
  return path.join(env.XDG_STATE_HOME || path.join(os.homedir(), ".local", "state"), "tsmon-agent");
}
