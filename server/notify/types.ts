import type { z } from "zod";
import type { AlertEvent } from "../alerts/types.ts";

/**
 * One message to one channel: a single event, or several events of the same rule and
 * status aggregated within `aggregation_window_secs`.
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

/** What a channel's delivery attempt came to; the reason becomes a metric label. */
export interface SendResult {
  ok: boolean;
  /** Worth trying again later (5xx, 429, network trouble); false for other 4xx and bad config. */
  retryable: boolean;
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
export interface ChannelPlugin<C = any> {
  type: string;
  schema: z.ZodType<C>;
  secrets: readonly string[];
  create(config: C, deps: ChannelDeps): Channel;
}
