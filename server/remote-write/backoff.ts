/** Why a request failed, the `reason` label of tsmon_remote_write_failures_total. */
export type FailureReason = "network" | "timeout" | "server_error" | "rate_limited" | "rejected";

/** What to do with a batch after the receiver's answer. */
export type Outcome =
  | { type: "sent" }
  | { type: "retry"; reason: FailureReason; detail: string }
  | { type: "drop"; reason: FailureReason; detail: string };

/**
 * Prometheus' own rules: 2xx delivered; 5xx, 429 and 408 may pass later (retry with
 * backoff, the batch stays queued); any other 4xx will never pass (the batch is malformed or
 * refused, e.g. out-of-order samples), so it is dropped and counted rather than blocking the queue.
 */
export function classifyStatus(status: number, body: string): Outcome {
  if (status >= 200 && status < 300) return { type: "sent" };
  const detail = `HTTP ${status}${body ? `: ${body.slice(0, 300)}` : ""}`;
  if (status === 429) return { type: "retry", reason: "rate_limited", detail };
  if (status === 408) return { type: "retry", reason: "timeout", detail };
  if (status >= 500) return { type: "retry", reason: "server_error", detail };
  return { type: "drop", reason: "rejected", detail };
}

export interface BackoffPolicy { minMs: number; maxMs: number }

/** The wait before retry `attempt` (1, 2, …): minMs doubling up to maxMs, with up to 20 % jitter
 *  (`random` in [0,1)) so several tsmon servers behind one receiver do not retry in step. */
export function backoffMs(attempt: number, policy: BackoffPolicy, random = Math.random()): number {
  const base = Math.min(policy.maxMs, policy.minMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(base * (1 - 0.2 * random));
}

/** A 429's Retry-After in ms (seconds or an HTTP date), capped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, nowMs: number, capMs: number): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(header) - nowMs;
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, capMs) : undefined;
}
