import type { Labels } from "../../common/metrics.ts";
import type { CompiledRule } from "./rule-match.ts";
import { RuleRunner } from "./rule-runner.ts";
import type { Observation, Target } from "./types.ts";

export interface SeriesRules {
  metric: string;
  labels: Labels;
  runners: RuleRunner[];
  /** Last state sent per rule, so a steady "inactive" is not re-sent every sample. */
  sent: Map<string, string>;
  /** During a replay: the newest verdict per rule, sent when the replay ends. */
  replayed?: Map<string, Target>;
}

/**
 * The rule side of one agent in an agent-window shard: a RuleRunner per (rule, series) the
 * rules select, fed every sample. Verdicts go to the rule-evaluator as observations; a
 * steady inactive is sent once, anything else every time (the evaluator holds the truth).
 */
export class AgentRules {
  private readonly series = new Map<string, SeriesRules>();
  private replaying = false;

  constructor(private readonly agentId: string, private readonly rules: readonly CompiledRule[]) {}

  /** Feeds one sample; observations are appended to `out` (or held back while replaying). */
  feed(key: string, metric: string, labels: Labels, ts: number, value: number, out: Observation[]): void {
    this.feedSeries(this.seriesFor(key, metric, labels), ts, value, out);
  }

  /** The rules' state of one series (created on first sight): a handle for feedSeries. */
  seriesFor(key: string, metric: string, labels: Labels): SeriesRules {
    let s = this.series.get(key);
    if (!s) {
      const matching = this.rules.filter((r) => r.matchesSeries(metric, labels));
      s = { metric, labels, runners: matching.map((r) => new RuleRunner(r.rule)), sent: new Map() };
      this.series.set(key, s);
    }
    return s;
  }

  /** Feeds one sample of a series obtained from seriesFor. */
  feedSeries(s: SeriesRules, ts: number, value: number, out: Observation[]): void {
    for (const runner of s.runners) {
      const target = runner.step({ ts, value });
      if (!target) continue;
      if (this.replaying) (s.replayed ??= new Map()).set(runner.rule.id, target);
      else this.emit(s, runner.rule.id, target, out);
    }
  }

  /** Replays stored history without emitting every step; `end` sends each final verdict. */
  beginReplay(): void {
    this.replaying = true;
  }

  endReplay(out: Observation[]): void {
    this.replaying = false;
    for (const s of this.series.values()) {
      if (!s.replayed) continue;
      for (const [ruleId, target] of s.replayed) {
        s.sent.delete(ruleId); // a replay's verdict always goes out
        this.emit(s, ruleId, target, out);
      }
      s.replayed = undefined;
    }
  }

  /** Series with at least one rule, and samples held in rule windows (memory report). */
  footprint(): { ruleSeries: number; samplesHeld: number } {
    let ruleSeries = 0, samplesHeld = 0;
    for (const s of this.series.values()) {
      if (s.runners.length) ruleSeries++;
      for (const r of s.runners) samplesHeld += r.held;
    }
    return { ruleSeries, samplesHeld };
  }

  private emit(s: SeriesRules, ruleId: string, target: Target, out: Observation[]): void {
    const last = s.sent.get(ruleId);
    if (target.state === "inactive" && last === "inactive") return;
    s.sent.set(ruleId, target.state);
    out.push({ ruleId, agentId: this.agentId, metric: s.metric, labels: s.labels, target });
  }
}
