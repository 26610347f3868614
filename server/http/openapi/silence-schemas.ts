import { z } from "zod";

/*
 * Silences of some alerts (POST/GET/DELETE /v1/alerts/silences). Published as components
 * by schemas.ts through `alertSilenceComponents`.
 */

const MAX_SILENCE_SECS = 90 * 86_400;

export const AlertSilenceInput = z.strictObject({
  episode_id: z.string().min(1).max(200).optional().describe("silence the rule and agent of this firing alert (GET /v1/alerts/active)"),
  rule_id: z.string().min(1).max(200).optional().describe("only this rule's alerts"),
  agent_id: z.string().min(1).max(256).optional().describe("only this agent's alerts"),
  duration_secs: z.number().int().min(60).max(MAX_SILENCE_SECS).describe("how long, from now: a minute to 90 days"),
  note: z.string().max(500).default("").describe("why, for the others"),
});

export const AlertSilenceOut = z.object({
  id: z.string(),
  rule_id: z.string().optional(),
  agent_id: z.string().optional(),
  ends_at: z.string().describe("ISO 8601 UTC time"),
  created_at: z.string().describe("ISO 8601 UTC time"),
  created_by: z.string(),
  note: z.string(),
});

export const alertSilenceComponents = { AlertSilenceInput, AlertSilence: AlertSilenceOut };
