import type { Database, RootDatabase } from "lmdb";
import { pruneTimeKeyed } from "./prune.ts";
import { alertKeyString, transition, type AlertState } from "../alerts/lifecycle.ts";
import type { AlertEvent, AlertKey, AlertRule, Target } from "../alerts/types.ts";

type HistoryKey = [ts: number, id: string];

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
 * Alert state, history and API-managed rules in the control environment. Transitions run
 * inside one LMDB write transaction (read state → pure transition → write), which LMDB
 * serializes across threads and processes: two evaluators never emit the same event.
 */
export class AlertStore {
  readonly states: Database<AlertState, string>;
  readonly history: Database<AlertEvent, HistoryKey>;
  readonly rules: Database<AlertRule, string>;
  /** The notifier's input: events written here in the same transaction that decided them. */
  readonly outbox: Database<AlertEvent, HistoryKey>;
  private readonly meta: Database<number, string>;

  constructor(private readonly env: RootDatabase) {
    this.states = env.openDB<AlertState, string>({ name: "alert_state" });
    this.history = env.openDB<AlertEvent, HistoryKey>({ name: "alert_history" });
    this.rules = env.openDB<AlertRule, string>({ name: "alert_rules" });
    this.outbox = env.openDB<AlertEvent, HistoryKey>({ name: "notify_outbox" });
    this.meta = env.openDB<number, string>({ name: "alert_meta" });
  }

  /** Applies each target to its alert; returns the events, once written durably. */
  async apply(items: { rule: AlertRule; key: AlertKey; target: Target }[]): Promise<AlertEvent[]> {
    let events: AlertEvent[] = [];
    await this.states.transaction(() => {
      events = [];
      for (const { rule, key, target } of items) {
        const k = alertKeyString(key);
        const prev = this.states.get(k);
        const result = transition(rule, key, prev, target);
        if (!result) continue;
        // Nothing to remember about an alert that has never been active; value-only updates
        // of inactive alerts are not worth a write either.
        if (result.next.state !== "inactive" || (prev && prev.state !== "inactive")) this.states.put(k, result.next);
        for (const e of result.events) {
          const key: HistoryKey = [e.status === "firing" ? e.fired_at : e.resolved_at!, e.id];
          this.history.put(key, e);
          this.outbox.put(key, e);
          events.push(e);
        }
      }
    });
    if (events.length) await this.env.flushed;
    return events;
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
