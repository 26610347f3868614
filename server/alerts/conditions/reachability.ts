import { z } from "zod";
import type { RuleIssue, RuleOf } from "../rule-fields.ts";
import type { Target } from "../types.ts";
import type { SeriesCondition, Vote, VoterFacts } from "./condition.ts";
import { initialThresholdState, stepThreshold, type ThresholdState } from "./threshold.ts";

const fields = {
  // The type watches one metric; the common `metric` field is fixed to it.
  metric: z.literal("check.up").default("check.up"),
  check: z.string().min(1).max(128).describe("the check's name (the `check` label of its samples)"),
  min_failing_agents: z.number().int().min(1).max(10_000).default(1),
  duration_secs: z.number().int().min(0).default(0),
};
export type ReachabilityRule = RuleOf<"reachability", typeof fields>;

/**
 * A vote older than this, next to the newest one, no longer counts: the agent stopped
 * running the check (or reporting), and a failure it saw then says nothing about now.
 */
export const VOTE_TTL_MS = 10 * 60_000;

/** The agents named in a message at most; the count says how many more. */
const NAMED_AGENTS = 20;

/** One agent's side: its `check.up` has been 0 for `duration_secs` (threshold `for` semantics, gaps included). */
function stepAgent(rule: ReachabilityRule, state: ThresholdState, s: { ts: number; value: number }): { state: ThresholdState; target: Target | null } {
  const r = stepThreshold({ metric: rule.metric, operator: "lt", value: 1, duration_secs: rule.duration_secs, severity: rule.severity }, state, s);
  return r ?? { state, target: null };
}

/**
 * The rule's one alert from every agent's vote: firing while at least `min_failing_agents`
 * of the agents running the check have failed it for `duration_secs`; the message names the
 * target and the failing agents, with each one's reason and last traceroute hop when known.
 */
export function decideReachability(rule: ReachabilityRule, votes: ReadonlyMap<string, Vote>, facts: (agentId: string) => VoterFacts): Target {
  let newest = 0;
  for (const v of votes.values()) newest = Math.max(newest, v.target.ts);
  const counted = [...votes].filter(([, v]) => v.target.ts >= newest - VOTE_TTL_MS).sort(([a], [b]) => (a < b ? -1 : 1));
  const failing = counted.filter(([, v]) => v.target.state === "firing").map(([agentId]) => agentId);
  const k = rule.min_failing_agents;
  const targets = [...new Set(counted.map(([, v]) => v.labels.target).filter((t) => t !== undefined))];
  const what = `${rule.check}${targets.length ? ` (${targets.join(", ")})` : ""}`;
  const base = { severity: rule.severity, ts: newest, value: failing.length, threshold: k };
  if (failing.length < k) {
    return { ...base, state: "inactive", message: `${what} reachable: ${failing.length} of ${counted.length} agents failing, fewer than ${k}` };
  }
  const named = failing.slice(0, NAMED_AGENTS).map((agentId) => {
    const f = facts(agentId);
    const notes = [f.reason, f.lastHop && `last hop ${f.lastHop}`].filter(Boolean);
    return notes.length ? `${agentId} (${notes.join("; ")})` : agentId;
  });
  const more = failing.length > NAMED_AGENTS ? ` and ${failing.length - NAMED_AGENTS} more` : "";
  const held = rule.duration_secs ? ` for ${rule.duration_secs}s` : "";
  return { ...base, state: "firing", message: `${what} unreachable from ${failing.length} of ${counted.length} agents${held}: ${named.join(", ")}${more}` };
}

function check(rule: ReachabilityRule): RuleIssue[] {
  return rule.labels.check !== undefined ? [{ field: "labels", message: "a reachability rule selects its check with `check`, not labels.check" }] : [];
}

export const reachability = {
  watches: "series",
  fields,
  check,
  windowMs: () => 0,
  historyMs: (rule) => rule.duration_secs * 1000,
  initial: initialThresholdState,
  step: (rule, state, window) => stepAgent(rule, state, window.at(-1)!),
  matchLabels: (rule) => ({ check: rule.check }),
  acrossAgents: {
    alertSeries: (rule) => ({ metric: rule.metric, labels: { check: rule.check } }),
    checkOf: (rule) => rule.check,
    decide: decideReachability,
  },
} as const satisfies SeriesCondition<ReachabilityRule, ThresholdState>;
