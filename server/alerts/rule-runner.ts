import { conditionOf } from "./conditions/registry.ts";
import type { SeriesCondition } from "./conditions/condition.ts";
import type { AlertRule, Sample, Target } from "./types.ts";

/**
 * One rule applied to one series, sample by sample: the rule's condition state and only
 * as much of the series as the condition's window needs. Shared by the agent-window shards
 * (live data) and the backtest (stored history), so both give the same answers.
 */
export class RuleRunner {
  private readonly condition: SeriesCondition<AlertRule, unknown>;
  private readonly windowMs: number;
  private state: unknown;
  private window: Sample[] = [];
  private lastTs = -Infinity;

  /** Only for a rule whose condition watches series (see seriesConditionOf). */
  constructor(readonly rule: AlertRule) {
    const condition = conditionOf(rule);
    if (condition.watches !== "series") throw new Error(`rule type '${rule.type}' watches agents, not series`);
    this.condition = condition;
    this.windowMs = condition.windowMs(rule);
    this.state = condition.initial();
  }

  /** The condition's verdict after `s`; null for samples at or before the newest seen. */
  step(s: Sample): Target | null {
    if (s.ts <= this.lastTs) return null;
    this.lastTs = s.ts;
    const r = this.condition.step(this.rule, this.state, this.slide(s));
    this.state = r.state;
    return r.target;
  }

  /** Samples held (for the window's memory report). */
  get held(): number {
    return this.window.length;
  }

  private slide(s: Sample): readonly Sample[] {
    // A condition that reads only the newest sample holds none.
    if (this.windowMs === 0) return [s];
    this.window.push(s);
    const from = s.ts - this.windowMs;
    let drop = 0;
    while (drop < this.window.length && this.window[drop]!.ts < from) drop++;
    if (drop) this.window.splice(0, drop);
    return this.window;
  }
}
