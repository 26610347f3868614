import path from "node:path";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { open, type Database, type RootDatabase } from "lmdb";
import type { SystemInfo } from "../../common/metrics.ts";
import { fileSize } from "./dir-listing.ts";
import { AlertStore } from "./alert-store.ts";
import { ApiTokenStore } from "./api-token-store.ts";
import { UserStore } from "./user-store.ts";
import { WhitelistStore } from "./whitelist-store.ts";
import { NotifyStore } from "./notify-store.ts";
import type { LeaseRecord } from "./lease.ts";
import { LastSeenWriter } from "./last-seen-writer.ts";
import { CheckEventStore } from "./check-event-store.ts";

/** What the server knows of an agent that has reported. */
export interface AgentRecord {
  agent_id: string;
  first_seen: number;
  last_seen: number;
  system_info?: SystemInfo;
  /** Batches the agent reports it had to drop from its buffer, summed over its life. */
  dropped_batches: number;
}

/** A server process that can take relayed live reports (server/live/relay.ts registers itself here). */
export interface LivePeer { pid: number; socket: string; hasClients: boolean; heartbeat: number }

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
  /** What agents' checks saw happen, and the paths they traced. */
  readonly checkEvents: CheckEventStore;
  private readonly lastSeen: LastSeenWriter;

  /** `onLastSeenError`: hears a failed write of deferred last_seen moves (they are retried). */
  constructor(dataDir: string, onLastSeenError: (err: unknown) => void = (err) => console.error("tsmon: could not write agents' last_seen; retrying", err)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.file = path.join(dataDir, "control.mdb");
    this.env = open({ path: this.file, maxDbs: 64 });
    // Password and token hashes live here: readable by the server's user alone (LMDB creates 0664).
    for (const file of [this.file, `${this.file}-lock`]) if (existsSync(file)) chmodSync(file, 0o600);
    this.agents = this.env.openDB<AgentRecord, string>({ name: "agents" });
    this.whitelist = new WhitelistStore(this.env);
    this.livePeers = this.env.openDB<LivePeer, number>({ name: "live_peers" });
    this.alerts = new AlertStore(this.env);
    this.notify = new NotifyStore(this.env, this.alerts.outbox);
    this.leases = this.env.openDB<LeaseRecord, string>({ name: "leases" });
    this.users = new UserStore(this.env);
    this.apiTokens = new ApiTokenStore(this.env);
    this.checkEvents = new CheckEventStore(this.env);
    this.lastSeen = new LastSeenWriter((seen) => this.advanceLastSeen(seen), onLastSeenError);
  }

  /**
   * Records a report in the registry, durably; last_seen only moves forward, even with
   * concurrent writers.
   */
  async touchAgent(agentId: string, reportMs: number, systemInfo: SystemInfo | undefined, dropped: number): Promise<void> {
    await this.agents.transaction(() => {
      const prev = this.agents.get(agentId);
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
  }

  /**
   * Notes a report of a known agent whose only news is a later last_seen: written a moment
   * later with others in one transaction (LastSeenWriter), seen at once by this thread's reads.
   */
  noteLastSeen(agentId: string, seenMs: number): void {
    this.lastSeen.note(agentId, seenMs);
  }

  /** Writes the last_seen moves still in memory and takes no more (at shutdown, as soon as no report can come). */
  flushLastSeen(): Promise<void> {
    return this.lastSeen.close();
  }

  /** Moves each agent's last_seen forward to the instant given, in one transaction. An agent
   *  no longer in the registry is not written back. */
  private async advanceLastSeen(seen: ReadonlyMap<string, number>): Promise<void> {
    await this.agents.transaction(() => {
      for (const [agentId, seenMs] of seen) {
        const prev = this.agents.get(agentId);
        if (prev && seenMs > prev.last_seen) this.agents.put(agentId, { ...prev, last_seen: seenMs });
      }
    });
  }

  getAgent(agentId: string): AgentRecord | undefined {
    const record = this.agents.get(agentId);
    return record && this.withPendingLastSeen(record);
  }

  listAgents(): AgentRecord[] {
    return [...this.agents.getRange({}).map(({ value }) => this.withPendingLastSeen(value))];
  }

  private withPendingLastSeen(record: AgentRecord): AgentRecord {
    const pending = this.lastSeen.pending(record.agent_id);
    return pending !== undefined && pending > record.last_seen ? { ...record, last_seen: pending } : record;
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
    await this.lastSeen.close();
    await this.env.close();
  }
}
