import type { SendResult } from "../types.ts";

export interface RetryPolicy {
  /** Quick tries: attempt n waits quickBaseMs × 2^(n−1), ± jitter. */
  quickTries: number;
  quickBaseMs: number;
  /** After the quick tries: slowBaseMs × 2^k, capped at slowMaxMs, until maxAgeMs. */
  slowBaseMs: number;
  slowMaxMs: number;
  maxAgeMs: number;
}

export const DEFAULT_RETRY: Omit<RetryPolicy, "maxAgeMs"> = { quickTries: 3, quickBaseMs: 1_000, slowBaseMs: 60_000, slowMaxMs: 15 * 60_000 };

export type RetryDecision =
  | { action: "sent" }
  | { action: "retry"; at: number }
  | { action: "failed"; reason: string }
  | { action: "expired"; reason: string };

/**
 * What to do after attempt number `attempts` (1-based) ended with `result`: done, try again
 * at a time with jitter, or stop — a non-retryable answer (4xx other than 429) fails at once,
 * and nothing is retried past `maxAgeMs` after the notification was created.
 */
export function afterAttempt(policy: RetryPolicy, attempts: number, result: SendResult, createdAt: number, nowMs: number, random = Math.random): RetryDecision {
  if (result.ok) return { action: "sent" };
  if (!result.retryable) return { action: "failed", reason: result.detail };
  const base = attempts < policy.quickTries
    ? policy.quickBaseMs * 2 ** (attempts - 1)
    : Math.min(policy.slowMaxMs, policy.slowBaseMs * 2 ** (attempts - policy.quickTries));
  const delay = Math.round(base * (0.8 + 0.4 * random()));
  if (nowMs + delay - createdAt > policy.maxAgeMs) return { action: "expired", reason: `gave up after ${attempts} attempts: ${result.detail}` };
  return { action: "retry", at: nowMs + delay };
}
