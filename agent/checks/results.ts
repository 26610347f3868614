import type { MetricPoint } from "../../common/metrics.ts";
import type { Logger } from "../log.ts";
import { CHECK_FIGURES, type CheckResult, type DownReason } from "./check.ts";
import type { CheckDefinition } from "./definitions.ts";
import { formatHops, type TracerouteHop } from "./traceroute.ts";

/** The samples of one probe: `check.up` and each figure it has, labelled check/type/target. */
export function resultPoints(def: CheckDefinition, result: CheckResult, timestampMs: number): MetricPoint[] {
  const labels = Object.freeze({ ...result.labels, check: def.name, type: def.type, target: def.label });
  const points: MetricPoint[] = [{ timestampMs, metric: "check.up", value: result.up ? 1 : 0, labels }];
  for (const figure of CHECK_FIGURES) {
    const value = result.figures[figure];
    if (value !== undefined && Number.isFinite(value)) points.push({ timestampMs, metric: `check.${figure}`, value, labels });
  }
  return points;
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
 * Keeps each check's newest samples until the next report takes them, and its state.
 * Logs a check going down (with its reason) and coming back, not every probe.
 */
export class CheckResults {
  private readonly pending = new Map<string, MetricPoint[]>();
  private readonly states = new Map<string, CheckState>();

  constructor(private readonly log: Logger) {}

  record(def: CheckDefinition, result: CheckResult, atMs: number): void {
    // Only the newest probe of each check waits: a check probing faster than the agent
    // reports sends its latest state, not a backlog (reports stay one per interval).
    this.pending.set(def.name, resultPoints(def, result, atMs));
    const before = this.states.get(def.name);
    const reason = result.reason ? { ...result.reason, atMs } : before?.lastReason;
    const changed = before === undefined || before.up !== result.up;
    this.states.set(def.name, { up: result.up, atMs, sinceMs: changed ? atMs : before.sinceMs, lastReason: reason, detail: result.detail });
    const where = { check: def.name, type: def.type, target: def.label };
    if (!result.up && (before === undefined || before.up)) this.log.warn({ ...where, reason: result.reason }, `check ${def.name} is down: ${result.reason?.message ?? "no reason given"}`);
    else if (result.up && before && !before.up) this.log.info({ ...where, downForMs: atMs - before.sinceMs }, `check ${def.name} is up again`);
  }

  /** The path traced when a check went down; logged for now (reported to the server later). */
  recordTraceroute(def: CheckDefinition, hops: TracerouteHop[], atMs: number): void {
    const last = [...hops].reverse().find((h) => h.address !== undefined);
    this.log.info({ check: def.name, type: def.type, target: def.label, atMs, hops },
      `traceroute for check ${def.name} (${hops.length} hops, last answer from ${last?.address ?? "nobody"}):\n${formatHops(hops).join("\n")}`);
  }

  /** The samples waiting for a report; they are handed out once. */
  drain(): MetricPoint[] {
    const points = [...this.pending.values()].flat();
    this.pending.clear();
    return points;
  }

  state(name: string): CheckState | undefined {
    return this.states.get(name);
  }
}
