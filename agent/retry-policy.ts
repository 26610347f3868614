import { status } from "@grpc/grpc-js";

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000 };

/**
 * Delay before retry number `attempt` (1 = first retry): exponential, capped, with
 * "equal jitter" (between half and all of the step) so that agents cut off together do
 * not come back in lockstep, yet never retry immediately.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** What to do with a batch after the server answered with this gRPC status. */
export type SendVerdict = "accepted" | "rejected" | "retry";

/**
 * INVALID_ARGUMENT means the server looked at the batch and will never take it: keep it
 * and the buffer would be blocked behind it forever. Every other failure (the server is
 * down, overloaded, slow, or does not know our token yet) may pass later, so the batch
 * is kept.
 */
export function verdictFor(code: status): SendVerdict {
  if (code === status.OK) return "accepted";
  if (code === status.INVALID_ARGUMENT) return "rejected";
  return "retry";
}
