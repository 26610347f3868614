import type { Database, RootDatabase } from "lmdb";
import { pruneTimeKeyed } from "./prune.ts";
import { alertKeyString, type AlertState, type AlertUpdate } from "../alerts/alert-state.ts";
import type { AlertEvent, AlertRule } from "../alerts/types.ts";
import type { Vote } from "../alerts/conditions/condition.ts";

type HistoryKey = [ts: number, id: string];

/** Past every agent id (printable ASCII): the end of a rule's votes. */
const AFTER_AGENTS = "\uffff";

/** Someone said they are on a firing alert: kept per episode, so the next episode starts unacknowledged. */
export interface AlertAck { episode_id: string; by: string; at: number; note: string }

export interface HistoryQuery {
  severity?: string;
  agent?: string;
  rule?: string;
  status?: "firing" | "resolved";
  from?: number;
  to?: number;
  limit: number;
  offset: number;
}

/**
 * Alert state, history and API-managed rules in the control environment. The store knows
 * nothing of alert rules or lifecycles: `update` hands the stored states to the caller's
 * decision and writes what it decides, atomically.
 */
export class AlertStore {
  readonly states: Database<AlertState, string>;
  readonly history: Database<AlertEvent, HistoryKey>;
  readonly rules: Database<AlertRule, string>;
  /** The notifier's input: events written here in the same transaction that decided them. */
  readonly outbox: Database<AlertEvent, HistoryKey>;
  private readonly meta: Database<number, string>;
  /** Acknowledgements by episode id (display only: they change no notification). */
  readonly acks: Database<AlertAck, string>;
  /** Per (rule, agent), the newest verdict of a rule decided across agents (updateVotes). */
  private readonly votes: Database<Vote, [ruleId: string, agentId: string]>;

  constructor(private readonly env: RootDatabase) {
    this.states = env.openDB<AlertState, string>({ name: "alert_state" });
    this.history = env.openDB<AlertEvent, HistoryKey>({ name: "alert_history" });
    this.rules = env.openDB<AlertRule, string>({ name: "alert_rules" });
    this.outbox = env.openDB<AlertEvent, HistoryKey>({ name: "notify_outbox" });
    this.meta = env.openDB<number, string>({ name: "alert_meta" });
    this.acks = env.openDB<AlertAck, string>({ name: "alert_acks" });
    this.votes = env.openDB<Vote, [string, string]>({ name: "alert_votes" });
  }

  /**
   * Acknowledges the firing episode `ack.episode_id`; false when no alert fires with it.
   * Acknowledgements of episodes that no longer fire are dropped on the way (a handful).
   */
  async acknowledge(ack: AlertAck): Promise<boolean> {
    const firing = this.firingEpisodes();
    if (!firing.has(ack.episode_id)) return false;
    await this.acks.transaction(() => {
      for (const { key } of this.acks.getRange({})) if (!firing.has(key)) this.acks.remove(key);
      this.acks.put(ack.episode_id, ack);
    });
    return true;
  }

  /** Withdraws an acknowledgement; false when there was none. */
  async unacknowledge(episodeId: string): Promise<boolean> {
    if (this.acks.get(episodeId) === undefined) return false;
    await this.acks.remove(episodeId);
    return true;
  }

  /**
   * Reads the states of `keys` (by alertKeyString; missing: never stored), runs `decide` on
   * them and writes its states, and its events to history and the notifier's outbox, all in
   * one LMDB write transaction. LMDB serialises write transactions across threads and
   * processes, so `decide` always sees the states as the last writer left them: two
   * evaluators (shards, PM2 instances) deciding on the same alert cannot both emit its event.
   * Resolves with the events once they are durable. `decide` must be pure and may only
   * write the keys it was given (it may run again if lmdb-js retries the transaction).
   */
  async update(keys: readonly string[], decide: (stored: ReadonlyMap<string, AlertState>) => AlertUpdate): Promise<AlertEvent[]> {
    return this.transact(() => this.decideIn(keys, decide));
  }

  /**
   * For a rule decided across agents (reachability): records the agents' new votes and
   * decides the rule's alerts from every vote stored for it, in one transaction. Votes of
   * agents owned by other evaluator shards (or PM2 instances) are read as their last writer
   * left them, so the count is never decided from a stale copy.
   */
  async updateVotes(ruleId: string, votes: readonly [agentId: string, vote: Vote][], keys: readonly string[],
    decide: (votes: ReadonlyMap<string, Vote>, stored: ReadonlyMap<string, AlertState>) => AlertUpdate): Promise<AlertEvent[]> {
    return this.transact(() => {
      for (const [agentId, vote] of votes) this.votes.put([ruleId, agentId], vote);
      const all = new Map<string, Vote>();
      for (const { key, value } of this.votes.getRange({ start: [ruleId], end: [ruleId, AFTER_AGENTS] })) all.set(key[1], value);
      return this.decideIn(keys, (stored) => decide(all, stored));
    });
  }

  private async transact(body: () => AlertEvent[]): Promise<AlertEvent[]> {
    let events: AlertEvent[] = [];
    await this.states.transaction(() => {
      events = body();
    });
    if (events.length) await this.env.flushed;
    return events;
  }

  /** Inside a write transaction: reads the states of `keys`, runs `decide`, writes what it decided. */
  private decideIn(keys: readonly string[], decide: (stored: ReadonlyMap<string, AlertState>) => AlertUpdate): AlertEvent[] {
    const stored = new Map<string, AlertState>();
    for (const k of keys) {
      const s = this.states.get(k);
      if (s) stored.set(k, s);
    }
    const update = decide(stored);
    const asked = new Set(keys);
    for (const [k, state] of update.states) {
      // A state decided without having been read could overwrite another process's write.
      if (!asked.has(k)) throw new Error(`alert state ${JSON.stringify(k)} written without being read`);
      this.states.put(k, state);
    }
    for (const e of update.events) {
      const key: HistoryKey = [e.status === "firing" ? e.fired_at : e.resolved_at!, e.id];
      this.history.put(key, e);
      this.outbox.put(key, e);
    }
    return update.events;
  }

  /** Is this episode of an alert still firing? (A silenced-then-released firing event may not be.) */
  stillFiring(e: AlertEvent): boolean {
    const s = this.states.get(alertKeyString({ ruleId: e.rule_id, agentId: e.agent_id, metric: e.metric, labels: e.labels }));
    return s?.state === "firing" && s.episode_id === e.episode_id;
  }

  active(): AlertState[] {
    const out: AlertState[] = [];
    for (const { value } of this.states.getRange({})) if (value.state === "firing") out.push(value);
    return out.sort((a, b) => (b.fired_at ?? 0) - (a.fired_at ?? 0));
  }

  /** Newest first, filtered, with the total before paging. */
  queryHistory(q: HistoryQuery): { total: number; events: AlertEvent[] } {
    const events: AlertEvent[] = [];
    let total = 0;
    const range = this.history.getRange({
      start: [q.to ?? Number.MAX_SAFE_INTEGER, "\uffff"], end: [q.from ?? 0, ""], reverse: true,
    });
    for (const { value: e } of range) {
      if (q.severity && e.severity !== q.severity) continue;
      if (q.agent && e.agent_id !== q.agent) continue;
      if (q.rule && e.rule_id !== q.rule && e.rule_name !== q.rule) continue;
      if (q.status && e.status !== q.status) continue;
      if (total >= q.offset && events.length < q.limit) events.push(e);
      total++;
    }
    return { total, events };
  }

  /** Deletes history events older than `beforeMs` (history retention); returns how many. */
  pruneHistory(beforeMs: number): Promise<number> {
    return pruneTimeKeyed(this.history, beforeMs);
  }

  /** Episodes firing now: their memory must outlive any retention. */
  firingEpisodes(): Set<string> {
    const ids = new Set<string>();
    for (const s of this.active()) if (s.episode_id) ids.add(s.episode_id);
    return ids;
  }

  /** Forgets the state of a deleted rule's alerts (their history stays). */
  async dropRuleState(ruleId: string): Promise<void> {
    await this.states.transaction(() => {
      for (const { key } of this.states.getRange({ start: ruleId + "\u0000", end: ruleId + "\u0001" })) this.states.remove(key);
      for (const { key } of this.votes.getRange({ start: [ruleId], end: [ruleId, AFTER_AGENTS] })) this.votes.remove(key);
    });
  }

  /** lmdb-js renews a thread's read snapshot only on a later timer tick; this renews it now. */
  refreshSnapshot(): void {
    this.env.resetReadTxn();
  }

  /** Bumped on every API rule change, so other processes reload. */
  rulesVersion(): number {
    return this.meta.get("rules_version") ?? 0;
  }

  async bumpRulesVersion(): Promise<void> {
    await this.meta.transaction(() => this.meta.put("rules_version", (this.meta.get("rules_version") ?? 0) + 1));
  }
}
