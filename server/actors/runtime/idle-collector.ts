/** The clock and timer the collector uses (a fake clock in tests). */
export interface IdleTimers {
  now(): number;
  set(fn: () => void, ms: number): void;
}

const realTimers: IdleTimers = {
  now: () => performance.now(),
  set: (fn, ms) => { setTimeout(fn, ms).unref(); },
};

/** Quiet time after which a burst counts as over: longer than any pause within one. */
export const BURST_OVER_MS = 1_000;

export interface IdleCollectorOptions {
  /** Bytes let go since the last collection that make one worth it. */
  afterBytes: number;
  /** Quiet time (no bytes let go) before collecting: never in the middle of a burst. */
  idleMs: number;
  /** True while requests are still in flight (answers slower than `idleMs`): not quiet yet. */
  busy?: () => boolean;
  collect(): void;
  timers?: IdleTimers;
}

/**
 * Decides when a burst of large requests is over and the garbage it left is worth collecting.
 * V8 frees a dead request's ArrayBuffer only at a full collection, and an idle thread runs
 * none: after a burst, refused and answered reports (hundreds of MiB) stayed resident for
 * minutes. Counts the bytes let go; once they reach `afterBytes`, collects after `idleMs`
 * without more and with nothing in flight. The main thread runs one, as every report's bytes
 * pass through it (Intake), and collects in every thread (collect-garbage.ts). Not only after
 * bursts: steady traffic with quiet moments collects too, once per `afterBytes` of it at most,
 * at a moment nothing is waiting for an answer.
 */
export class IdleCollector {
  private owed = 0;
  private lastAt = 0;
  private armed = false;
  private readonly timers: IdleTimers;

  constructor(private readonly options: IdleCollectorOptions) {
    this.timers = options.timers ?? realTimers;
  }

  /** `bytes` of requests (answered or refused) are garbage now. */
  letGo(bytes: number): void {
    this.owed += bytes;
    this.lastAt = this.timers.now();
    if (this.owed < this.options.afterBytes || this.armed) return;
    this.armed = true;
    this.timers.set(() => this.due(), this.options.idleMs);
  }

  /** No bytes let go for `ms`. */
  quietFor(ms: number): boolean {
    return this.timers.now() - this.lastAt >= ms;
  }

  /** One timer, not one per request: under steady load it only looks again. */
  private due(): void {
    const quiet = this.timers.now() - this.lastAt;
    if (quiet < this.options.idleMs) {
      this.timers.set(() => this.due(), this.options.idleMs - quiet);
      return;
    }
    if (this.options.busy?.()) {
      this.timers.set(() => this.due(), this.options.idleMs / 4);
      return;
    }
    this.armed = false;
    this.owed = 0;
    this.options.collect();
  }
}
