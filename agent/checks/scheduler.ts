import { down, type Check, type CheckResult } from "./check.ts";
import type { CheckDefinition } from "./definitions.ts";
import { DueQueue, firstDueAt, nextDueAt, type Slot } from "./schedule.ts";
import { traceHost, traceroute, type TracerouteHop } from "./traceroute.ts";

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

/** Traces in flight at once, and the bound on each: a trace is a diagnosis, it must not crowd out the checks. */
export const MAX_TRACES = 2;
export const TRACE_BOUND_MS = 30_000;

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
  /** The path to a check's host, traced when it went from up to down (traceroute_on_failure); no traces without it. */
  onTraceroute?(definition: CheckDefinition, hops: TracerouteHop[], atMs: number, detail?: string): void;
  /** A trace that could not run (no raw ICMP, name did not resolve). */
  onTracerouteFailed?(definition: CheckDefinition, message: string): void;
  /** How to trace (default: traceroute.ts over the shared ICMP socket). */
  traceroute?(host: string, signal: AbortSignal): Promise<TracerouteHop[]>;
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
  private readonly checks: readonly ScheduledCheck[];
  private readonly due = new DueQueue();
  private readonly byName = new Map<string, ScheduledCheck>();
  private running = 0;
  /** Resolves stop() once the last probe in flight has settled. */
  private drained: (() => void) | undefined;
  private readonly aborts = new Set<AbortController>();
  /** Each check's last outcome, to see it go from up to down. */
  private readonly wasUp: (boolean | undefined)[];
  private readonly traces = new Set<Promise<void>>();
  private timer: unknown;
  /** The due time the timer is set for: a tick that finds the same one leaves the timer be. */
  private timerAt: number | undefined;
  private stopped = false;
  /**
   * The clock's reading at the start: due times count from it. Small integers stay
   * unboxed in V8 (for 24 days); epoch milliseconds are boxed anew at every read, and
   * without V8's optimizing compilers (agent/main.ts) every heap comparison allocated.
   */
  private readonly epoch: number;

  constructor(checks: readonly ScheduledCheck[], private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? REAL_CLOCK;
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 4);
    this.checks = checks;
    this.wasUp = new Array<boolean | undefined>(checks.length);
    this.epoch = this.clock.now();
    checks.forEach((c, index) => {
      this.byName.set(c.definition.name, c);
      const intervalMs = c.definition.interval_secs * 1000;
      this.due.push({ index, intervalMs, dueAt: firstDueAt(index, checks.length, intervalMs, 0) });
    });
  }

  start(): void {
    this.tick();
  }

  /** No new probes; aborts those in flight and waits for them to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.disarm();
    for (const abort of this.aborts) abort.abort();
    const probes = this.running === 0 ? undefined : new Promise<void>((resolve) => { this.drained = resolve; });
    await Promise.all([probes, ...this.traces]);
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.clock.now() - this.epoch;
    while (this.running < this.maxConcurrent) {
      const slot = this.due.takeDue(now);
      if (!slot) break;
      this.launch(slot, now);
    }
    // With every slot taken the next probe to finish calls tick; a timer then would only
    // spin on checks that are due but have to wait.
    const wake = this.running >= this.maxConcurrent ? undefined : this.due.nextWake();
    if (wake === this.timerAt) return;
    this.disarm();
    if (wake === undefined) return;
    this.timerAt = wake;
    this.timer = this.clock.setTimer(() => {
      this.timerAt = undefined;
      this.tick();
    }, Math.max(0, wake - now));
  }

  private disarm(): void {
    this.clock.clearTimer(this.timer);
    this.timerAt = undefined;
  }

  private launch(slot: Slot, now: number): void {
    slot.dueAt = nextDueAt(slot.dueAt, slot.intervalMs, now);
    this.running++;
    const run = new ProbeRun(this, this.clock, this.checks[slot.index]!, slot, this.epoch + now);
    this.aborts.add(run.abort);
    run.start();
  }

  /** A probe's outcome: reported, its check traced if it just went down, its slot free again. */
  finished(run: ProbeRun, result: CheckResult): void {
    const { slot, scheduled } = run;
    this.aborts.delete(run.abort);
    try {
      this.options.onResult(scheduled.definition, result, run.startedAt);
      const wentDown = this.wasUp[slot.index] === true && !result.up;
      this.wasUp[slot.index] = result.up;
      if (wentDown && scheduled.definition.traceroute_on_failure) this.trace(scheduled.definition);
    } finally {
      this.running--;
      this.due.push(slot);
      if (this.running === 0) this.drained?.();
      this.tick();
    }
  }

  /**
   * Traces the path to the check's host in the background. At most MAX_TRACES at once: a
   * failure beyond that (many checks going down together, usually over one broken path)
   * is not traced; the traces running already show that path.
   */
  /** Traces the path to `name`'s host now (asked by the server), `detail` on the result; false when there is no such check or no room. */
  traceNow(name: string, detail: string): boolean {
    const scheduled = this.byName.get(name);
    return scheduled !== undefined && this.trace(scheduled.definition, detail);
  }

  private trace(definition: CheckDefinition, detail?: string): boolean {
    const { onTraceroute, onTracerouteFailed } = this.options;
    if (!onTraceroute || this.traces.size >= MAX_TRACES || this.stopped) return false;
    const abort = new AbortController();
    this.aborts.add(abort);
    const bound = this.clock.setTimer(() => abort.abort(), TRACE_BOUND_MS);
    const atMs = this.clock.now();
    const tracer = this.options.traceroute ?? ((host, signal) => traceroute(host, { signal }));
    const run: Promise<void> = Promise.resolve()
      .then(() => tracer(traceHost(definition.target), abort.signal))
      .then((hops) => onTraceroute(definition, hops, atMs, detail), (err: unknown) => onTracerouteFailed?.(definition, err instanceof Error ? err.message : String(err)))
      // A callback that throws must not become an unhandled rejection that ends the agent.
      .catch(() => undefined)
      .finally(() => {
        this.clock.clearTimer(bound);
        this.aborts.delete(abort);
        this.traces.delete(run);
      });
    this.traces.add(run);
    return true;
  }
}

/**
 * One probe in flight, bounded by its timeout_ms. An object with methods rather than
 * closures: with a thousand probes a round, the closures (and the promise chain they
 * replaced) were a good part of the agent's garbage.
 */
class ProbeRun {
  readonly abort = new AbortController();
  private timer: unknown;
  private settled = false;

  constructor(
    private readonly scheduler: CheckScheduler,
    private readonly clock: SchedulerClock,
    readonly scheduled: ScheduledCheck,
    readonly slot: Slot,
    readonly startedAt: number,
  ) {}

  start(): void {
    const { definition, check } = this.scheduled;
    this.timer = this.clock.setTimer(() => this.expire(), definition.timeout_ms);
    let result: Promise<CheckResult>;
    try {
      result = check.probe({ timeoutMs: definition.timeout_ms, signal: this.abort.signal });
    } catch (err) {
      // Settled on the next turn, as a rejected probe would be: the scheduler is not re-entered.
      queueMicrotask(() => this.threw(err));
      return;
    }
    result.then((r) => this.settle(r), (err: unknown) => this.threw(err));
  }

  /**
   * The bound is past. The probe's own timeout result says more (which step hung), so it
   * gets a moment to answer the abort; a probe that ignores the signal is cut off after that.
   */
  private expire(): void {
    this.abort.abort();
    if (this.settled) return;
    const timeoutMs = this.scheduled.definition.timeout_ms;
    this.timer = this.clock.setTimer(() => this.settle(down("timeout", `no result within timeout_ms (${timeoutMs} ms)`)), ABORT_GRACE_MS);
  }

  private threw(err: unknown): void {
    this.settle(down("error", `the ${this.scheduled.definition.type} check threw: ${err instanceof Error ? err.message : String(err)}`));
  }

  private settle(result: CheckResult): void {
    if (this.settled) return;
    this.settled = true;
    this.clock.clearTimer(this.timer);
    this.scheduler.finished(this, result);
  }
}
