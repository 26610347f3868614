import type { Database, RootDatabase } from "lmdb";
import { TsmonError } from "../../common/errors.ts";

/** A server-managed check: the `[[checks]]` table as posted (validated), and which agents run it. */
export interface StoredCheck {
  /** The check's id in the API and its `check` label. */
  name: string;
  agent_pattern: string;
  /** The `[[checks]]` table as sent to agents: name, type, target and the type's own fields. */
  table: Record<string, unknown>;
  created_at: number;
  updated_at: number;
}

/** Collection settings for the agents whose id matches `pattern`. */
export interface AgentSettings {
  pattern: string;
  collection_interval_secs?: number;
  /** Collector name → on/off; a collector not named keeps running. */
  collectors?: Record<string, boolean>;
  updated_at: number;
}

/** Where other agents reach an agent (mesh targets): what it advertised, else its connection's address. */
export interface AgentAddress {
  agent_id: string;
  /** host, or host:port when the agent advertised a port. */
  address: string;
  advertised: boolean;
  seen_at: number;
}

/** Bounds on what the API may store: each agent receives every matching check on every change. */
export const STORE_LIMITS = { checks: 1000, settings: 200 } as const;

type Key = ["check" | "settings" | "address", string] | ["meta", "version"];

/*
 * Everything of the remote agent configuration in one database of the control environment
 * (`agent_config`, keys [kind, id]), so a change and the version bump that announces it
 * commit together. Every PM2 instance polls `version` (see watch-hub.ts): that is how a
 * change made on one instance reaches agents connected to another.
 */
export class AgentConfigStore {
  private readonly db: Database<unknown, Key>;

  constructor(env: RootDatabase) {
    this.db = env.openDB<unknown, Key>({ name: "agent_config" });
  }

  version(): number {
    return (this.db.get(["meta", "version"]) as number | undefined) ?? 0;
  }

  checks(): StoredCheck[] {
    return this.list<StoredCheck>("check");
  }

  check(name: string): StoredCheck | undefined {
    return this.db.get(["check", name]) as StoredCheck | undefined;
  }

  /** Adds a check (`create`: refused when the name exists) or replaces one (refused when it does not). */
  async saveCheck(check: Omit<StoredCheck, "created_at" | "updated_at">, mode: "create" | "replace", nowMs: number): Promise<StoredCheck> {
    return this.change(() => {
      const prev = this.check(check.name);
      if (mode === "create" && prev) throw new TsmonError("ALREADY_EXISTS", `a check named '${check.name}' exists; PUT /v1/checks/${check.name} replaces it`);
      if (mode === "replace" && !prev) throw new TsmonError("NOT_FOUND", `no check '${check.name}'; create it with POST /v1/checks`);
      if (!prev && this.count("check") >= STORE_LIMITS.checks) {
        throw new TsmonError("RESOURCE_EXHAUSTED", `at most ${STORE_LIMITS.checks} server-managed checks; remove one first`);
      }
      const saved: StoredCheck = { ...check, created_at: prev?.created_at ?? nowMs, updated_at: nowMs };
      this.db.put(["check", check.name], saved);
      return saved;
    });
  }

  async removeCheck(name: string): Promise<void> {
    await this.change(() => {
      if (!this.db.get(["check", name])) throw new TsmonError("NOT_FOUND", `no check '${name}'`);
      this.db.remove(["check", name]);
    });
  }

  settings(): AgentSettings[] {
    return this.list<AgentSettings>("settings");
  }

  async saveSettings(settings: AgentSettings): Promise<AgentSettings> {
    return this.change(() => {
      if (!this.db.get(["settings", settings.pattern]) && this.count("settings") >= STORE_LIMITS.settings) {
        throw new TsmonError("RESOURCE_EXHAUSTED", `at most ${STORE_LIMITS.settings} agent-config patterns; remove one first`);
      }
      this.db.put(["settings", settings.pattern], settings);
      return settings;
    });
  }

  async removeSettings(pattern: string): Promise<void> {
    await this.change(() => {
      if (!this.db.get(["settings", pattern])) throw new TsmonError("NOT_FOUND", `no agent config for pattern '${pattern}'`);
      this.db.remove(["settings", pattern]);
    });
  }

  addresses(): AgentAddress[] {
    return this.list<AgentAddress>("address");
  }

  /** Records where an agent is reached; bumps the version only when the address changed (mesh peers then get it). */
  async noteAddress(address: AgentAddress): Promise<void> {
    const prev = this.db.get(["address", address.agent_id]) as AgentAddress | undefined;
    if (prev && prev.address === address.address && prev.advertised === address.advertised) return;
    await this.change(() => { this.db.put(["address", address.agent_id], address); });
  }

  /** Runs a write and bumps the version in one transaction. */
  private async change<T>(write: () => T): Promise<T> {
    return this.db.transaction(() => {
      const result = write();
      this.db.put(["meta", "version"], this.version() + 1);
      return result;
    });
  }

  private list<T>(kind: "check" | "settings" | "address"): T[] {
    return [...this.db.getRange({ start: [kind, ""], end: [kind, "\uffff"] }).map(({ value }) => value as T)];
  }

  private count(kind: "check" | "settings"): number {
    return this.db.getKeysCount({ start: [kind, ""], end: [kind, "\uffff"] });
  }
}
