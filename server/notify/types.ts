import type { z } from "zod";
import type { AlertEvent } from "../alerts/types.ts";

/**
 * One message to one channel: the first event of a group, or the events of the same rule
 * and status merged into one follow-up within `aggregation_window_secs`.
 */
export interface Notification {
  /** Stable across retries: receivers can de-duplicate on it. */
  id: string;
  status: AlertEvent["status"];
  rule_name: string;
  severity: AlertEvent["severity"];
  events: AlertEvent[];
  /** A test message from `POST /v1/notifications/channels/:id/test`. */
  test?: boolean;
}

/**
 * Why an attempt failed, as the `reason` label of tsmon_notifications_total: network (no
 * answer, timeout), rate_limited (429, a robot's throttle), server_error (5xx, SMTP 4xx),
 * rejected (the receiver refused this message for good: other 4xx, a robot's errcode, SMTP
 * 5xx), config (our side is wrong: bad template, SMTP login, a channel that is gone),
 * internal (the channel threw).
 */
export type FailureReason = "network" | "rate_limited" | "server_error" | "rejected" | "config" | "internal";

/** What a channel's delivery attempt came to. */
export interface SendResult {
  ok: boolean;
  /** Worth trying again later (5xx, 429, network trouble); false for other 4xx and bad config. */
  retryable: boolean;
  /** Set when ok is false. */
  reason?: FailureReason;
  status?: number;
  detail: string;
}

export interface Channel {
  send(n: Notification): Promise<SendResult>;
}

export interface ChannelDeps {
  now(): number;
  /** Per-attempt bound on one HTTP or SMTP exchange. */
  timeoutMs: number;
}

/**
 * A channel type: the schema of its `[[notification.channels]]` table (besides the
 * fields every channel has), which of those fields are secrets (never returned by the
 * API), and how to build a sender from a validated table.
 */
export interface ChannelPlugin<C = unknown> {
  type: string;
  schema: z.ZodType<C>;
  secrets: readonly string[];
  create(config: C, deps: ChannelDeps): Channel;
}
