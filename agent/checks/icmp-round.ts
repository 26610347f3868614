import { down, type CheckResult, type DownReason, type ProbeContext } from "./check.ts";

/*
 * One round of an icmp check: `count` attempts spaced `probe_interval_ms`, then loss and
 * min/avg/max/mdev over the answers. The attempt itself (raw echo, or TCP connect when raw
 * ICMP is not allowed) is passed in, so both methods report the same figures.
 */

/** One attempt's answer: its round-trip time, or why there was none. */
export type Attempt = { rttMs: number } | { lost: DownReason };

/** Starts one attempt now; it calls `done` once with its answer (a callback: a round of a thousand checks makes thousands). */
export type StartAttempt = (signal: AbortSignal, done: (attempt: Attempt) => void) => void;

/**
 * Runs `count` attempts, the i-th started i·interval after the first; stops starting them
 * once the round is aborted. One timer at a time and one abort listener per round: a
 * promise, timer and listener per pause were most of a round's garbage.
 */
export function runRound(count: number, intervalMs: number, ctx: ProbeContext, attempt: StartAttempt): Promise<Attempt[]> {
  if (ctx.signal.aborted) return Promise.resolve([]);
  return new Promise((resolve) => new RoundStarts(count, intervalMs, ctx.signal, attempt, resolve).next());
}

/** The attempts of one round: started one per interval, answered in any order, kept in the order started. */
class RoundStarts {
  private readonly attempts: Attempt[] = [];
  private started = 0;
  private answered = 0;
  private starting = true;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly count: number,
    private readonly intervalMs: number,
    private readonly signal: AbortSignal,
    private readonly attempt: StartAttempt,
    private readonly resolve: (attempts: Attempt[]) => void,
  ) {}

  next(): void {
    this.timer = undefined;
    const index = this.started++;
    this.attempt(this.signal, (answer) => this.answer(index, answer));
    if (this.started === 1 && this.count > 1) this.signal.addEventListener("abort", this, { once: true });
    if (this.started < this.count && !this.signal.aborted) this.timer = setTimeout(startNext, this.intervalMs, this);
    else this.done();
  }

  /** The round's signal aborted: no more attempts. */
  handleEvent(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.done();
  }

  private answer(index: number, attempt: Attempt): void {
    this.attempts[index] = attempt;
    this.answered++;
    this.settleIfAnswered();
  }

  /** No more attempts start. */
  private done(): void {
    if (this.count > 1) this.signal.removeEventListener("abort", this);
    this.starting = false;
    this.settleIfAnswered();
  }

  private settleIfAnswered(): void {
    if (!this.starting && this.answered === this.started) this.resolve(this.attempts);
  }
}

function startNext(round: RoundStarts): void {
  round.next();
}

/**
 * The round's result. Up when at least one attempt was answered (loss says how many were
 * not); down with the reason of the last unanswered attempt otherwise. mdev is ping's:
 * the standard deviation of the round-trip times.
 */
export function roundResult(attempts: readonly Attempt[], what: string): CheckResult {
  // One pass, no arrays of its own: a thousand rounds every interval.
  let answered = 0;
  let sum = 0;
  let sumOfSquares = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let lastLost: DownReason | undefined;
  for (const attempt of attempts) {
    if ("rttMs" in attempt) {
      const rtt = attempt.rttMs;
      answered++;
      sum += rtt;
      sumOfSquares += rtt * rtt;
      if (rtt < min) min = rtt;
      if (rtt > max) max = rtt;
    } else lastLost = attempt.lost;
  }
  if (answered === 0) {
    const reason = lastLost ?? { code: "timeout" as const, message: "nothing was sent before the timeout" };
    return down(reason.code, `${what}: no answer to ${attempts.length} of ${attempts.length} probes; last: ${reason.message}`, { loss_percent: 100 });
  }
  const avg = sum / answered;
  return {
    up: true,
    figures: {
      rtt_ms: round2(avg),
      rtt_min_ms: round2(min),
      rtt_max_ms: round2(max),
      jitter_ms: round2(Math.sqrt(Math.max(0, sumOfSquares / answered - avg * avg))),
      loss_percent: round2((100 * (attempts.length - answered)) / attempts.length),
    },
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
