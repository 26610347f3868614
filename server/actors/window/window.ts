import type { StoredPoint } from "../../storage/metric-store.ts";
import { seriesKey } from "../../../common/metrics.ts";
import { AgentRules, type SeriesRules } from "../../alerts/agent-rules.ts";
import { parseSeriesText } from "../../../common/series-text.ts";
import { compileRule, historyNeededMs, type CompiledRule } from "../../alerts/rule-match.ts";
import type { Observation } from "../../alerts/types.ts";
import { assertNever } from "../../../common/assert-never.ts";
import { type LatestValue, type SampleBlock, type WindowReply, type WindowRequest } from "../protocol/messages.ts";

/** What the window reads from storage when it (re)learns an agent. */
export interface WindowDeps {
  readHistory(agentId: string, fromMs: number, toMs: number): Iterable<{ tsMs: number; points: StoredPoint[] }>;
  now(): number;
  rebuildHorizonMs: number;
}

interface AgentState {
  /** Newest report applied to the latest values; storage is read from here on to catch up. */
  lastReport: number;
  series: Map<string, LatestValue>;
  rules: AgentRules;
  /** Newest report fed to the rules (separate: a `latest` catch-up does not feed rules). */
  rulesUpTo: number;
  /** The agent's last report shape: its series text, and per point the series' held state. */
  shape?: { text: string; slots: Slot[] };
  /** The shard's dropped-reports total this agent last read storage for (see `handle`). */
  checkedDrops?: number;
}

/** One series as a report's point refers to it: its latest value and its rules. */
interface Slot { latest: LatestValue; rules: SeriesRules }

/** Rough bytes per held sample and per rule-series, for the per-agent memory report. */
const BYTES_PER_SAMPLE = 48;
const BYTES_PER_RULE_SERIES = 400;
const BYTES_PER_SERIES = 250;

/**
 * The agent-window actor's core, without threads: per agent the latest value of every
 * series, and every alert rule's condition on the series it selects. It learns an agent
 * from storage the first time it sees it, and re-reads storage whenever reports were
 * stored that it did not see (another PM2 instance, a restart, a full mailbox), so a
 * reconnect does not reset a pending duration.
 */
export class AgentWindow {
  private readonly agents = new Map<string, AgentState>();
  private rules: CompiledRule[] = [];
  private horizonMs: number;

  constructor(private readonly deps: WindowDeps) {
    this.horizonMs = deps.rebuildHorizonMs;
  }

  handle<T extends WindowRequest>(msg: T): WindowReply<T["type"]>;
  handle(msg: WindowRequest): WindowReply {
    switch (msg.type) {
      case "samples": {
        const observations: Observation[] = [];
        // The replay stops short of this report: it is fed live below, so its transitions
        // (a breach, a recovery) are events, not folded into a replay's final verdict. Later
        // reports already stored come in their own messages, in order.
        const before = () => earliest(msg.samples.timestamps) - 1;
        let state = this.agents.get(msg.agentId);
        if (!state) {
          state = this.newAgent(msg.agentId);
          this.replay(msg.agentId, state, this.deps.now() - this.horizonMs, before(), observations);
        } else if (msg.prevLastSeen > state.rulesUpTo || droppedSince(state, msg.droppedBefore)) {
          // Stored reports this window did not see: another instance took them, or this
          // shard's mailbox was full. The registry's last_seen tells of the first only once
          // flushed (0.2 s); the drop count tells of the second at once, but not whose.
          this.replay(msg.agentId, state, state.rulesUpTo + 1, before(), observations);
        }
        state.checkedDrops = msg.droppedBefore;
        // A report older than the replayed range (a backfill) still counts: runners skip only what they have seen.
        applyBlock(state, msg.samples, observations);
        return { type: "applied", series: state.series.size, observations };
      }
      case "latest": {
        const state = this.agents.get(msg.agentId) ?? this.learn(msg.agentId);
        this.catchUpLatest(msg.agentId, state);
        // Copies: the held values change in place as samples arrive. (A series whose first
        // sample never landed still holds -Infinity: not a value.)
        const values = [...state.series.values()]
          .filter((v) => v.timestamp !== -Infinity && (msg.metric === undefined || v.metric === msg.metric)).map((v) => ({ ...v })).sort(compareSeries);
        return { type: "latest", agentId: msg.agentId, lastReport: state.lastReport || null, values };
      }
      case "rules": {
        this.rules = msg.rules.map(compileRule);
        const longest = Math.max(0, ...msg.rules.map(historyNeededMs));
        this.horizonMs = Math.max(this.deps.rebuildHorizonMs, longest + 10 * 60_000);
        // Rule state restarts from storage: the next report of each agent replays its history.
        for (const [agentId, state] of this.agents) {
          state.rules = this.agentRules(agentId);
          state.shape = undefined;
          state.rulesUpTo = this.deps.now() - this.horizonMs;
        }
        return { type: "rules-set", rules: this.rules.length };
      }
      case "stats":
        return { type: "stats", ...this.stats() };
      default:
        return assertNever(msg);
    }
  }

  private stats() {
    let series = 0, ruleSeries = 0, samplesHeld = 0;
    for (const a of this.agents.values()) {
      series += a.series.size;
      const f = a.rules.footprint();
      ruleSeries += f.ruleSeries;
      samplesHeld += f.samplesHeld;
    }
    const agents = this.agents.size;
    const bytes = series * BYTES_PER_SERIES + ruleSeries * BYTES_PER_RULE_SERIES + samplesHeld * BYTES_PER_SAMPLE;
    return { agents, series, ruleSeries, samplesHeld, bytesPerAgent: agents ? Math.round(bytes / agents) : 0 };
  }

  private newAgent(agentId: string): AgentState {
    const state: AgentState = { lastReport: 0, series: new Map(), rules: this.agentRules(agentId), rulesUpTo: 0 };
    this.agents.set(agentId, state);
    return state;
  }

  /** A first `latest` query: learn the agent's values (rules wait for its next report). */
  private learn(agentId: string): AgentState {
    const state = this.newAgent(agentId);
    state.lastReport = this.deps.now() - this.horizonMs;
    state.rulesUpTo = state.lastReport;
    return state;
  }

  private agentRules(agentId: string): AgentRules {
    return new AgentRules(agentId, this.rules.filter((r) => r.matchesAgent(agentId)));
  }

  /** Feeds stored reports in [fromMs, toMs] through latest values and rules; sends final verdicts. */
  private replay(agentId: string, state: AgentState, fromMs: number, toMs: number, out: Observation[]): void {
    state.rulesUpTo = Math.max(state.rulesUpTo, Math.min(fromMs - 1, toMs));
    state.rules.beginReplay();
    for (const { tsMs, points } of this.read(agentId, fromMs, toMs)) {
      for (const p of points) {
        const key = seriesKey(p.metric, p.labels);
        setLatest(state, key, p.metric, p.labels, tsMs, p.value);
        state.rules.feed(key, p.metric, p.labels, tsMs, p.value, out);
      }
      if (tsMs > state.rulesUpTo) state.rulesUpTo = tsMs;
    }
    state.rules.endReplay(out);
  }

  private catchUpLatest(agentId: string, state: AgentState): void {
    for (const { tsMs, points } of this.read(agentId, state.lastReport + 1, Infinity)) {
      for (const p of points) setLatest(state, seriesKey(p.metric, p.labels), p.metric, p.labels, tsMs, p.value);
    }
  }

  private read(agentId: string, fromMs: number, toMs: number) {
    // Anything up to the ingest limit of 5 minutes ahead may be stored already.
    return this.deps.readHistory(agentId, fromMs, Math.min(toMs, this.deps.now() + 5 * 60_000));
  }
}

/** True when reports were dropped on their way to this shard since the agent last checked (so maybe some of its own). */
function droppedSince(state: AgentState, droppedBefore: number | undefined): boolean {
  return droppedBefore !== undefined && state.checkedDrops !== undefined && droppedBefore !== state.checkedDrops;
}

function applyBlock(state: AgentState, block: SampleBlock, out: Observation[]): void {
  const slots = shapeOf(state, block.series);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!, ts = block.timestamps[i]!, value = block.values[i]!;
    moveLatest(state, slot.latest, ts, value);
    state.rules.feedSeries(slot.rules, ts, value, out);
    if (ts > state.rulesUpTo) state.rulesUpTo = ts;
  }
}

/** The slots of a report's series: those of the agent's last report when the shape repeats
 *  (the usual case, no key is computed), else found or created once per series. */
function shapeOf(state: AgentState, text: string): Slot[] {
  if (state.shape?.text === text) return state.shape.slots;
  const slots = parseSeriesText(text).map(([metric, labels]): Slot => {
    const key = seriesKey(metric, labels);
    return { latest: heldSeries(state, key, metric, labels), rules: state.rules.seriesFor(key, metric, labels) };
  });
  state.shape = { text, slots };
  return slots;
}

function earliest(timestamps: Float64Array): number {
  let min = Infinity;
  for (const ts of timestamps) if (ts < min) min = ts;
  return min;
}

function setLatest(state: AgentState, key: string, metric: string, labels: LatestValue["labels"], ts: number, value: number): void {
  moveLatest(state, heldSeries(state, key, metric, labels), ts, value);
}

/** The held latest value of a series; a new one starts older than any sample, so its first sample lands. */
function heldSeries(state: AgentState, key: string, metric: string, labels: LatestValue["labels"]): LatestValue {
  let held = state.series.get(key);
  if (!held) state.series.set(key, (held = { metric, labels, timestamp: -Infinity, value: 0 }));
  return held;
}

function moveLatest(state: AgentState, current: LatestValue, ts: number, value: number): void {
  // In place: a long-lived object per series, not one per sample for the old generation to
  // collect. (Out-of-order samples never replace a newer value.)
  if (ts >= current.timestamp) {
    current.timestamp = ts;
    current.value = value;
  }
  if (ts > state.lastReport) state.lastReport = ts;
}

function compareSeries(a: LatestValue, b: LatestValue): number {
  return a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : seriesKey(a.metric, a.labels) < seriesKey(b.metric, b.labels) ? -1 : 1;
}

