import { down, type CheckResult, type DownReason, type ProbeContext } from "./check.ts";

/*
 * One round of an icmp check: `count` attempts spaced `probe_interval_ms`, then loss and
 * min/avg/max/mdev over the answers. The attempt itself (raw echo, or TCP connect when raw
 * ICMP is not allowed) is passed in, so both methods report the same figures.
 */

/** One attempt's answer: its round-trip time, or why there was none. */
export type Attempt = { rttMs: number } | { lost: DownReason };

/** Runs `count` attempts, the i-th started i·interval after the first; stops starting them once the round is aborted. */
export async function runRound(count: number, intervalMs: number, ctx: ProbeContext, attempt: (signal: AbortSignal) => Promise<Attempt>): Promise<Attempt[]> {
  const started: Promise<Attempt>[] = [];
  for (let i = 0; i < count && !ctx.signal.aborted; i++) {
    if (i > 0 && !(await pause(intervalMs, ctx.signal))) break;
    started.push(attempt(ctx.signal));
  }
  return Promise.all(started);
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const onAbort = () => { clearTimeout(timer); resolve(false); };
    const timer = setTimeout(() => { signal.removeEventListener("abort", onAbort); resolve(true); }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The round's result. Up when at least one attempt was answered (loss says how many were
 * not); down with the reason of the last unanswered attempt otherwise. mdev is ping's:
 * the standard deviation of the round-trip times.
 */
export function roundResult(attempts: readonly Attempt[], what: string): CheckResult {
  const rtts = attempts.flatMap((a) => ("rttMs" in a ? [a.rttMs] : []));
  const lossPercent = attempts.length ? round2((100 * (attempts.length - rtts.length)) / attempts.length) : 100;
  if (rtts.length === 0) {
    const last = [...attempts].reverse().find((a): a is { lost: DownReason } => "lost" in a);
    const reason = last?.lost ?? { code: "timeout" as const, message: "nothing was sent before the timeout" };
    return down(reason.code, `${what}: no answer to ${attempts.length} of ${attempts.length} probes; last: ${reason.message}`, { loss_percent: 100 });
  }
  const avg = rtts.reduce((s, r) => s + r, 0) / rtts.length;
  const meanSquare = rtts.reduce((s, r) => s + r * r, 0) / rtts.length;
  return {
    up: true,
    figures: {
      rtt_ms: round2(avg),
      rtt_min_ms: round2(Math.min(...rtts)),
      rtt_max_ms: round2(Math.max(...rtts)),
      jitter_ms: round2(Math.sqrt(Math.max(0, meanSquare - avg * avg))),
      loss_percent: lossPercent,
    },
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
