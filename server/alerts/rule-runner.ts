import { evalCertExpiration } from "./conditions/cert-expiration.ts";
import { evalRateOfChange } from "./conditions/rate-of-change.ts";
import { initialThresholdState, stepThreshold, type ThresholdState } from "./conditions/threshold.ts";
import { evalTrend } from "./conditions/trend.ts";
import type { AlertRule, Sample, Target } from "./types.ts";

/**
 * One rule applied to one series, sample by sample: the rule's condition state and only
 * as much of the series as the rule's window needs. Shared by the agent-window shards
 * (live data) and the backtest (stored history), so both give the same answers.
 */
export class RuleRunner {
  private threshold: ThresholdState = initialThresholdState();
  private window: Sample[] = [];
  private lastTs = -Infinity;

  constructor(readonly rule: AlertRule) {}

  /** The condition's verdict after `s`; null for samples at or before the newest seen. */
  step(s: Sample): Target | null {
    const rule = this.rule;
    if (rule.type === "threshold") {
      const r = stepThreshold(rule, this.threshold, s);
      if (!r) return null;
      this.threshold = r.state;
      return r.target;
    }
    if (s.ts <= this.lastTs) return null;
    this.lastTs = s.ts;
    switch (rule.type) {
      case "rate_of_change":
        return evalRateOfChange(rule, this.slide(s, rule.window_secs));
      case "trend_prediction":
        return evalTrend(rule, this.slide(s, rule.window_secs));
      case "cert_expiration":
        return evalCertExpiration(rule, s);
      default:
        return null;
    }
  }

  /** Samples held (for the window's memory report). */
  get held(): number {
    return this.window.length;
  }

  private slide(s: Sample, windowSecs: number): Sample[] {
    this.window.push(s);
    const from = s.ts - windowSecs * 1000;
    let drop = 0;
    while (drop < this.window.length && this.window[drop]!.ts < from) drop++;
    if (drop) this.window.splice(0, drop);
    return this.window;
  }
}
