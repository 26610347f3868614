import { down, type Check, type CheckResult } from "./check.ts";
import type { CheckDefinition } from "./definitions.ts";
import { firstDueAt, nextDueAt, nextWake, pickDue, type Slot } from "./schedule.ts";

/** Time and timers, injected so tests drive the scheduler without waiting. */
export interface SchedulerClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const REAL_CLOCK: SchedulerClock = {
  now: Date.now,
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** How long a probe has to answer its abort before the scheduler reports the timeout itself. */
export const ABORT_GRACE_MS = 100;

export interface ScheduledCheck {
  definition: CheckDefinition;
  check: Check;
}

export interface SchedulerOptions {
  clock?: SchedulerClock;
  /** Probes in flight at once, over all checks (default 4): the agent stays light. */
  maxConcurrent?: number;
  /** Every probe's outcome, with the time it started. */
  onResult(definition: CheckDefinition, result: CheckResult, startedAtMs: number): void;
}

/**
 * Runs each check on its own interval, apart from metric collection. A probe is bounded
 * by its timeout_ms: past it the probe's signal is aborted and the result is a timeout
 * even if the probe ignores the signal. A probe that throws is a down result, never an
 * error of the agent.
 */
export class CheckScheduler {
  private readonly clock: SchedulerClock;
  private readonly maxConcurrent: number;
  private readonly slots: Slot[];
  private readonly byName = new Map<string, ScheduledCheck>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly aborts = new Set<AbortController>();
  private timer: unknown;
  private stopped = false;

  constructor(checks: readonly ScheduledCheck[], private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? REAL_CLOCK;
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 4);
    const start = this.clock.now();
    this.slots = checks.map((c, i) => {
      this.byName.set(c.definition.name, c);
      const intervalMs = c.definition.interval_secs * 1000;
      return { name: c.definition.name, intervalMs, dueAt: firstDueAt(i, checks.length, intervalMs, start), running: false };
    });
  }

  start(): void {
    this.tick();
  }

  /** No new probes; aborts those in flight and waits for them to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimer(this.timer);
    for (const abort of this.aborts) abort.abort();
    await Promise.all([...this.inFlight]);
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    for (const slot of pickDue(this.slots, now, this.maxConcurrent - this.inFlight.size)) this.launch(slot, now);
    this.clock.clearTimer(this.timer);
    // With every slot taken (or every check running) the next probe to finish calls tick;
    // a timer then would only spin on checks that are due but have to wait.
    if (this.inFlight.size >= this.maxConcurrent) return;
    const wake = nextWake(this.slots);
    if (wake !== undefined) this.timer = this.clock.setTimer(() => this.tick(), Math.max(0, wake - now));
  }

  private launch(slot: Slot, now: number): void {
    const scheduled = this.byName.get(slot.name)!;
    slot.running = true;
    slot.dueAt = nextDueAt(slot.dueAt, slot.intervalMs, now);
    const run: Promise<void> = this.probe(scheduled).then((result) => {
      this.options.onResult(scheduled.definition, result, now);
    }).finally(() => {
      slot.running = false;
      this.inFlight.delete(run);
      this.tick();
    });
    this.inFlight.add(run);
  }

  private probe({ definition, check }: ScheduledCheck): Promise<CheckResult> {
    const timeoutMs = definition.timeout_ms;
    const abort = new AbortController();
    this.aborts.add(abort);
    return new Promise<CheckResult>((resolve) => {
      // The probe's own timeout result says more (which step hung), so it gets a moment
      // to answer the abort; a probe that ignores the signal is cut off after that.
      const abortTimer = this.clock.setTimer(() => abort.abort(), timeoutMs);
      const cutOff = this.clock.setTimer(() => settle(down("timeout", `no result within timeout_ms (${timeoutMs} ms)`)), timeoutMs + ABORT_GRACE_MS);
      let settled = false;
      const settle = (result: CheckResult) => {
        if (settled) return;
        settled = true;
        this.clock.clearTimer(abortTimer);
        this.clock.clearTimer(cutOff);
        this.aborts.delete(abort);
        resolve(result);
      };
      Promise.resolve()
        .then(() => check.probe({ timeoutMs, signal: abort.signal }))
        .then(settle, (err: unknown) => settle(down("error", `the ${definition.type} check threw: ${err instanceof Error ? err.message : String(err)}`)));
    });
  }
}
