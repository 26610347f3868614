import type { CheckEvent } from "../../common/check-events.ts";
import type { MetricPoint } from "../../common/metrics.ts";
import type { Logger } from "../log.ts";
import { CHECK_FIGURES, type CheckResult, type DownReason } from "./check.ts";
import type { CheckDefinition } from "./definitions.ts";
import { formatHops, type TracerouteHop } from "./traceroute.ts";

/** The metric of each figure, `check.<figure>`, made once rather than per sample. */
const FIGURE_METRICS = CHECK_FIGURES.map((figure) => `check.${figure}` as const);

/** The labels of one probe's samples: its own (method="tcp") and check/type/target. */
export function resultLabels(def: CheckDefinition, result: CheckResult): Readonly<Record<string, string>> {
  return Object.freeze({ ...result.labels, check: def.name, type: def.type, target: def.label });
}

/** The samples of one probe: `check.up` and each figure it has, labelled check/type/target. */
export function resultPoints(def: CheckDefinition, result: CheckResult, timestampMs: number): MetricPoint[] {
  return appendResultPoints([], result, timestampMs, resultLabels(def, result));
}

/** Appends the samples of one probe to `points`, with the labels given. */
function appendResultPoints(points: MetricPoint[], result: CheckResult, timestampMs: number, labels: Readonly<Record<string, string>>): MetricPoint[] {
  points.push({ timestampMs, metric: "check.up", value: result.up ? 1 : 0, labels });
  for (let i = 0; i < CHECK_FIGURES.length; i++) {
    const value = result.figures[CHECK_FIGURES[i]!];
    if (value !== undefined && Number.isFinite(value)) points.push({ timestampMs, metric: FIGURE_METRICS[i]!, value, labels });
  }
  return points;
}

/** A check's newest probe, waiting for the next report. */
interface PendingResult {
  def: CheckDefinition;
  result: CheckResult;
  atMs: number;
}

/** A check's labels, kept while its results bring the same labels of their own (the same object, or none). */
interface KnownLabels {
  def: CheckDefinition;
  own: CheckResult["labels"];
  labels: Readonly<Record<string, string>>;
}

/** What is known of one check now, for logs and a later API. */
export interface CheckState {
  readonly up: boolean;
  readonly atMs: number;
  /** Since when it has been up (or down). */
  readonly sinceMs: number;
  /** The latest reason it was down; kept after it recovers. */
  readonly lastReason: (DownReason & { atMs: number }) | undefined;
  readonly detail: string | undefined;
}

/**
 * Events waiting for a report at most. Each report takes them all (the server accepts up to
 * 1,000 per report), so only an agent whose collection stalls for long fills this; past it
 * the oldest go first and are counted in the log.
 */
export const MAX_PENDING_EVENTS = 500;

/** The event of one probe's result, when it is news: the first result, or a change. */
export function resultEvent(def: CheckDefinition, result: CheckResult, atMs: number, before: CheckState | undefined): CheckEvent | undefined {
  const kind = before === undefined ? "first" : before.up === result.up ? undefined : result.up ? "up" : "down";
  if (!kind) return undefined;
  const event: CheckEvent = { check: def.name, type: def.type, target: def.label, timestampMs: atMs, kind, up: result.up };
  if (!result.up && result.reason) {
    event.reasonCode = result.reason.code;
    event.reasonMessage = result.reason.message;
  }
  if (result.detail) event.detail = result.detail;
  return event;
}

/**
 * Keeps each check's newest samples until the next report takes them, its state, and the
 * events (first result, down with its reason, up again, traced paths) the report carries.
 * Logs a check going down (with its reason) and coming back, not every probe.
 */
export class CheckResults {
  private readonly pending = new Map<string, PendingResult>();
  /** Frozen label sets, one per check, shared by its samples of every report. */
  private readonly labels = new Map<string, KnownLabels>();
  private readonly states = new Map<string, CheckState>();
  private events: CheckEvent[] = [];
  private droppedEvents = 0;

  constructor(private readonly log: Logger) {}

  record(def: CheckDefinition, result: CheckResult, atMs: number): void {
    // Only the newest probe of each check waits: a check probing faster than the agent
    // reports sends its latest state, not a backlog (reports stay one per interval).
    // The samples are made when a report takes them: one object per probe waits, not seven.
    this.pending.set(def.name, { def, result, atMs });
    const before = this.states.get(def.name);
    const event = resultEvent(def, result, atMs, before);
    if (event) this.pushEvent(event);
    const reason = result.reason ? { ...result.reason, atMs } : before?.lastReason;
    const changed = before === undefined || before.up !== result.up;
    this.states.set(def.name, { up: result.up, atMs, sinceMs: changed ? atMs : before.sinceMs, lastReason: reason, detail: result.detail });
    if (!result.up && (before === undefined || before.up)) this.log.warn({ check: def.name, type: def.type, target: def.label, reason: result.reason }, `check ${def.name} is down: ${result.reason?.message ?? "no reason given"}`);
    else if (result.up && before && !before.up) this.log.info({ check: def.name, type: def.type, target: def.label, downForMs: atMs - before.sinceMs }, `check ${def.name} is up again`);
  }

  /** A path traced towards the check's target (on failure, or asked for): reported as an event, and logged. */
  recordTraceroute(def: CheckDefinition, hops: readonly TracerouteHop[], atMs: number, detail?: string): void {
    const up = this.states.get(def.name)?.up ?? false;
    this.pushEvent({ check: def.name, type: def.type, target: def.label, timestampMs: atMs, kind: "traceroute", up, hops: hops.map((h) => ({ ...h, rttsMs: [...h.rttsMs] })), ...(detail !== undefined && { detail }) });
    const last = [...hops].reverse().find((h) => h.address !== undefined);
    this.log.info({ check: def.name, type: def.type, target: def.label, atMs, hops, lastHop: last?.address },
      `traceroute for check ${def.name} (${hops.length} hops, last answer from ${last?.address ?? "nobody"}):\n${formatHops(hops).join("\n")}`);
  }

  /** The events waiting for a report, oldest first; they are handed out once. */
  drainEvents(): CheckEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  /** The samples waiting for a report; they are handed out once. */
  drain(): MetricPoint[] {
    const points: MetricPoint[] = [];
    // forEach rather than for-of: no iterator result per entry (the agent runs without V8's optimizing compilers).
    this.pending.forEach(({ def, result, atMs }) => appendResultPoints(points, result, atMs, this.labelsOf(def, result)));
    this.pending.clear();
    return points;
  }

  state(name: string): CheckState | undefined {
    return this.states.get(name);
  }

  private labelsOf(def: CheckDefinition, result: CheckResult): Readonly<Record<string, string>> {
    const known = this.labels.get(def.name);
    if (known && known.def === def && known.own === result.labels) return known.labels;
    const labels = resultLabels(def, result);
    this.labels.set(def.name, { def, own: result.labels, labels });
    return labels;
  }

  private pushEvent(event: CheckEvent): void {
    this.events.push(event);
    if (this.events.length <= MAX_PENDING_EVENTS) return;
    this.events.shift();
    // Logged at the first loss and then every 100th: a stalled agent must not flood its log.
    if (this.droppedEvents++ % 100 === 0) this.log.warn({ droppedEvents: this.droppedEvents }, `more than ${MAX_PENDING_EVENTS} check events waited for a report: dropped the oldest`);
  }
}
