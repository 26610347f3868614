import type { z } from "zod";
import type { RuleIssue } from "../rule-fields.ts";
import type { Labels } from "../../../common/metrics.ts";
import type { Sample, Target } from "../types.ts";

/**
 * A rule type that watches series: every sample of a matching series is one step. The
 * agent-window shards and the backtest run it through a RuleRunner.
 */
export interface SeriesCondition<R, S> {
  readonly watches: "series";
  /** Zod shape of the type's own fields in `[[alert.rules]]`, besides the common ones. */
  readonly fields: z.ZodRawShape;
  /** Constraints between the fields, checked wherever a rule is validated (config file, API). */
  readonly check?: (rule: R) => RuleIssue[];
  /** The samples `step` reads: those within this many ms of the newest (0: the newest only). */
  windowMs(rule: R): number;
  /** Stored history that rebuilds the condition's state after a restart (ms before now). */
  historyMs(rule: R): number;
  /** The per-series state before the first sample. */
  initial(): S;
  /** The verdict after the newest sample of `window` (oldest first, already trimmed, never empty). */
  step(rule: R, state: S, window: readonly Sample[]): { state: S; target: Target | null };
  /** Label values the type itself selects (a reachability rule's `check`), besides the rule's `labels` matchers. */
  readonly matchLabels?: (rule: R) => Labels;
  /** Set for a type decided across agents: each agent's verdict is a vote, and one alert per rule is decided from all of them. */
  readonly acrossAgents?: AcrossAgents<R>;
}

/** One agent's vote in a rule decided across agents: its series' verdict and that series' labels. */
export interface Vote {
  target: Target;
  labels: Labels;
}

/** What the evaluator can tell a decision across agents about one agent (read from stored check events). */
export interface VoterFacts {
  /** The reason of the agent's last down event of the check. */
  reason?: string | undefined;
  /** The last address that answered in the agent's newest traceroute of the check, with its TTL. */
  lastHop?: string | undefined;
}

export interface AcrossAgents<R> {
  /** The metric and labels of the rule's one alert (its agent is FLEET_AGENT). */
  alertSeries(rule: R): { metric: string; labels: Labels };
  /** The check whose stored events (reasons, traceroutes) explain an agent's vote. */
  checkOf(rule: R): string;
  /** The one alert's verdict from every agent's vote. */
  decide(rule: R, votes: ReadonlyMap<string, Vote>, facts: (agentId: string) => VoterFacts): Target;
}

/** The agent id of an alert decided across agents: it belongs to none of them. */
export const FLEET_AGENT = "*";

/** A rule type that watches agents, not series: decided on the evaluator's tick from when the agent last reported. */
export interface AgentCondition<R> {
  readonly watches: "agent";
  readonly fields: z.ZodRawShape;
  readonly check?: (rule: R) => RuleIssue[];
  /** The metric name its alerts carry (they belong to no series). */
  readonly alertMetric: string;
  tick(rule: R, lastSeenMs: number, nowMs: number): Target;
  /** When, with no report after `lastSeenMs`, the tick's verdict changes: the backtest replays the tick there. */
  changesAt(rule: R, lastSeenMs: number): number;
}

export type Condition<R, S = unknown> = SeriesCondition<R, S> | AgentCondition<R>;
