import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import path from "node:path";

/** The server-managed config as the agent keeps it between runs. */
export interface RemoteConfig {
  version: string;
  /** `[[checks]]` tables as the server sent them (validated when applied). */
  checks: unknown[];
  collectionIntervalSecs?: number;
  collectors: Record<string, boolean>;
}

const FILE = "remote-config.json";

/** True when a config asks for nothing: no checks and no settings. */
export function isEmptyConfig(config: RemoteConfig): boolean {
  return config.checks.length === 0 && config.collectionIntervalSecs === undefined && Object.keys(config.collectors).length === 0;
}

/**
 * The last server-managed config, in `<state_dir>/remote-config.json`: what the agent runs
 * when it starts while the server is unreachable. Written atomically (a temporary file,
 * fsynced, renamed over the old one), so a crash leaves the old file or the new, never half.
 */
export class RemoteConfigCache {
  readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, FILE);
  }

  /** The cached config; undefined when there is none or it cannot be read (the reason goes to `problem`). */
  read(problem: (message: string) => void): RemoteConfig | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") problem(`cannot read ${this.file}: ${(err as Error).message}`);
      return undefined;
    }
    try {
      const parsed = JSON.parse(text) as Partial<RemoteConfig>;
      if (typeof parsed.version !== "string" || !Array.isArray(parsed.checks) || typeof parsed.collectors !== "object" || parsed.collectors === null) {
        throw new Error("not a remote config");
      }
      return parsed as RemoteConfig;
    } catch (err) {
      problem(`ignoring ${this.file}: ${(err as Error).message}; it is rewritten when the server sends the config`);
      return undefined;
    }
  }

  /** Stores `config`; an empty one removes the file, so an agent the server manages nothing for leaves no file. */
  write(config: RemoteConfig): void {
    if (isEmptyConfig(config)) {
      rmSync(this.file, { force: true });
      return;
    }
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(config), { mode: 0o600 });
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
