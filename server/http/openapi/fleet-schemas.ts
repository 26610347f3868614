import { z } from "zod";

/*
 * Shapes of the fleet reads (/v1/query, /v1/overview) and of /v1/metrics?format=columns.
 * Columnar: bucket starts once per reply, then flat arrays per series; an empty bucket is
 * null with count 0. Published as components by schemas.ts through `fleetComponents`.
 */

const isoTime = z.string().describe("ISO 8601 UTC time");
const labels = z.record(z.string(), z.string());
const column = z.array(z.number().nullable());

export const FleetQueryResult = z.object({
  metric_name: z.string(),
  from: isoTime,
  to: isoTime,
  step: z.number().int().describe("seconds per bucket"),
  agents: z.array(z.string()).describe("the agents the `agents` globs matched, sorted, whether or not they have the metric"),
  timestamps: z.array(z.number()).describe("bucket starts (epoch ms, multiples of step) shared by every series"),
  series: z.array(z.object({
    agent_id: z.string(),
    labels,
    min: column, max: column, avg: column.describe("null where the bucket is empty"),
    count: z.array(z.number().int()).describe("points in the bucket; 0 where empty"),
  })).describe("by agent, then by series key"),
});

export const FleetOverview = z.object({
  from: isoTime,
  to: isoTime,
  step: z.number().int().describe("seconds per bucket"),
  metrics: z.array(z.string()),
  timestamps: z.array(z.number()).describe("bucket starts (epoch ms) shared by every sparkline"),
  agents: z.array(z.object({
    agent_id: z.string(),
    status: z.enum(["online", "offline", "alerting"]).describe("alerting while an alert fires on the agent; otherwise online when it reported within agent_active_secs"),
    active: z.boolean().describe("reported within agent_active_secs (as /v1/agents)"),
    firing_alerts: z.number().int(),
    last_seen: isoTime,
    series: z.array(z.object({ metric_name: z.string(), labels, avg: column.describe("bucket means, null where empty") })),
  })),
});

/** One series of /v1/metrics?format=columns. */
export const SeriesColumnsOut = z.object({
  labels,
  timestamps: z.array(z.number()).describe("epoch ms, oldest first; with step, the starts of the non-empty buckets"),
  values: z.array(z.number()).optional().describe("without step: one value per timestamp"),
  min: z.array(z.number()).optional(), max: z.array(z.number()).optional(), avg: z.array(z.number()).optional(),
  count: z.array(z.number().int()).optional().describe("with step: the bucket columns"),
});

export const SeriesColumnsResult = z.object({
  agent_id: z.string(),
  metric_name: z.string(),
  from: isoTime,
  to: isoTime,
  step: z.number().int().optional(),
  format: z.literal("columns"),
  series: z.array(SeriesColumnsOut),
});

export const fleetComponents = { FleetQueryResult, FleetOverview, SeriesColumnsResult };

export type FleetQueryResult = z.infer<typeof FleetQueryResult>;
export type FleetOverview = z.infer<typeof FleetOverview>;
export type SeriesColumnsResult = z.infer<typeof SeriesColumnsResult>;
