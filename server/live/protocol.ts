import { z } from "zod";
import type { Labels } from "../../common/metrics.ts";
import type { AlertEvent } from "../alerts/types.ts";

/*
 * The live feed's protocol (GET /v1/live, WebSocket, JSON text frames).
 * Client → server: `subscribe` (replaces the current subscription).
 * Server → client: `hello` on connect, `subscribed`, `report` per ingested report with the
 * matching values, `alert` per firing or resolved event of a subscribed agent, `dropped` when this client was too slow and messages were skipped,
 * `error` for a malformed client message (the connection stays open).
 */

export const subscribeSchema = z.strictObject({
  type: z.literal("subscribe"),
  agents: z.array(z.string().min(1).max(200)).max(100).describe("agent globs, e.g. web-*"),
  metrics: z.array(z.string().min(1).max(200)).max(100).default(["*"]).describe("metric globs, e.g. cpu.*"),
  alerts: z.boolean().default(true).describe("also send alert events of the subscribed agents"),
});

export type SubscribeMessage = z.infer<typeof subscribeSchema>;

export interface LiveValue { metric: string; labels: Labels; value: number; timestamp_ms: number }

export type ServerMessage =
  | { type: "hello"; server: "tsmon"; version: string }
  | { type: "subscribed"; agents: string[]; metrics: string[]; alerts: boolean }
  | { type: "report"; agent_id: string; values: LiveValue[] }
  | { type: "alert"; event: AlertEvent }
  | { type: "dropped"; count: number; total: number }
  | { type: "error"; error: string; code: string };
