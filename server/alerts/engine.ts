import type { EvaluatorShards } from "../actors/evaluator/evaluator-shards.ts";
import type { WindowShards } from "../actors/window/window-shards.ts";
import type { Logger } from "../log.ts";
import type { RuleBook } from "./rule-book.ts";
import type { ReportEvents } from "../actors/protocol/messages.ts";
import type { AlertEvent } from "./types.ts";

const RULES_POLL_MS = 1_000;
const TICK_MS = 5_000;

/**
 * Main-thread side of alerting: passes the events the evaluator shards send to listeners
 * (log, metrics, live feed, notifier), keeps every shard's rule set in step with the store
 * (rules changed through another instance arrive within a second), and drives the
 * time-based rules.
 */
export class AlertEngine {
  private readonly listeners: ((e: AlertEvent) => void)[] = [];
  private timers: NodeJS.Timeout[] = [];
  private version = -1;

  constructor(
    readonly rules: RuleBook,
    private readonly window: WindowShards,
    private readonly evaluator: EvaluatorShards,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.syncRules();
    this.timers.push(setInterval(() => void this.syncRules().catch((err) => this.log.error({ err }, "reloading alert rules failed")), RULES_POLL_MS).unref());
    this.timers.push(setInterval(() => void this.tick(), TICK_MS).unref());
  }

  onEvent(listener: (e: AlertEvent) => void): void {
    this.listeners.push(listener);
  }

  /** The events a report caused, as an evaluator shard sends them (see alert-wiring.ts). */
  received(message: ReportEvents): void {
    this.emit(message.events);
  }

  /** Re-sends the rule set to every shard when the stored version moved (or `force`). */
  async syncRules(force = false): Promise<void> {
    this.rules.refreshSnapshot();
    const version = this.rules.version();
    if (!force && version === this.version) return;
    this.version = version;
    const all = this.rules.evaluable((rule) => this.log.warn({ rule: rule.id, type: rule.type }, "alert rule of an unknown type is not evaluated; delete it or recreate it with a known type"));
    await Promise.all([this.window.setRules(all), this.evaluator.setRules(all)]);
  }

  async tick(nowMs = Date.now()): Promise<AlertEvent[]> {
    try {
      const events = await this.evaluator.tick(nowMs);
      this.emit(events);
      return events;
    } catch (err) {
      this.log.warn({ err }, "alert tick failed");
      return [];
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }

  private emit(events: AlertEvent[]): void {
    for (const e of events) for (const listener of this.listeners) listener(e);
  }
}
