import path from "node:path";
import { mkdirSync } from "node:fs";
import { open, type Database, type RootDatabase } from "lmdb";
import type { SystemInfo } from "../../common/metrics.ts";
import { fileSize } from "./partitions.ts";
import type { LivePeer } from "../live/relay.ts";
import { AlertStore } from "./alert-store.ts";
import { ApiTokenStore } from "./api-token-store.ts";
import { UserStore } from "./user-store.ts";
import { WhitelistStore } from "./whitelist-store.ts";
import { NotifyStore } from "./notify-store.ts";
import type { LeaseRecord } from "./lease.ts";

/** What the server knows of an agent that has reported. */
export interface AgentRecord {
  agent_id: string;
  first_seen: number;
  last_seen: number;
  system_info?: SystemInfo;
  /** Batches the agent reports it had to drop from its buffer, summed over its life. */
  dropped_batches: number;
}

/**
 * The control environment (`<data_dir>/control.mdb`): agent registry, whitelist, alert
 * rules/state/history, the notification outbox and deliveries, leases, users and API tokens. One LMDB
 * environment shared by every thread and PM2 process; each feature keeps its own store.
 */
export class ControlStore {
  readonly env: RootDatabase;
  private readonly file: string;
  readonly agents: Database<AgentRecord, string>;
  readonly whitelist: WhitelistStore;
  readonly livePeers: Database<LivePeer, number>;
  readonly alerts: AlertStore;
  readonly notify: NotifyStore;
  /** Leases of once-per-host jobs (see lease.ts). */
  readonly leases: Database<LeaseRecord, string>;
  readonly users: UserStore;
  readonly apiTokens: ApiTokenStore;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.file = path.join(dataDir, "control.mdb");
    this.env = open({ path: this.file, maxDbs: 32 });
    this.agents = this.env.openDB<AgentRecord, string>({ name: "agents" });
    this.whitelist = new WhitelistStore(this.env);
    this.livePeers = this.env.openDB<LivePeer, number>({ name: "live_peers" });
    this.alerts = new AlertStore(this.env);
    this.notify = new NotifyStore(this.env, this.alerts.outbox);
    this.leases = this.env.openDB<LeaseRecord, string>({ name: "leases" });
    this.users = new UserStore(this.env);
    this.apiTokens = new ApiTokenStore(this.env);
  }

  /**
   * Records a report in the registry; last_seen only moves forward, even with concurrent
   * writers. Returns the last_seen before this report (0 for a new agent).
   */
  async touchAgent(agentId: string, reportMs: number, systemInfo: SystemInfo | undefined, dropped: number): Promise<number> {
    let before = 0;
    await this.agents.transaction(() => {
      const prev = this.agents.get(agentId);
      before = prev?.last_seen ?? 0;
      const next: AgentRecord = {
        agent_id: agentId,
        first_seen: prev ? Math.min(prev.first_seen, reportMs) : reportMs,
        last_seen: prev ? Math.max(prev.last_seen, reportMs) : reportMs,
        system_info: systemInfo ?? prev?.system_info,
        dropped_batches: (prev?.dropped_batches ?? 0) + dropped,
      };
      this.agents.put(agentId, next);
    });
    await this.env.flushed;
    return before;
  }

  getAgent(agentId: string): AgentRecord | undefined {
    return this.agents.get(agentId);
  }

  listAgents(): AgentRecord[] {
    return [...this.agents.getRange({}).map(({ value }) => value)];
  }

  sizeBytes(): number {
    return fileSize(this.file);
  }

  /** True while the environment is open and readable. */
  isOpen(): boolean {
    try {
      this.agents.get("");
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}
