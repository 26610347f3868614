import { z } from "zod";
import { ERROR_CODES } from "../../../common/errors.ts";
import { reportJsonSchema } from "../../ingest/report-json.ts";
import { seedBatchSchema, seedSampleSchema } from "../../ingest/seed-report.ts";
import { RULE_TYPES } from "../../alerts/conditions/registry.ts";
import { alertRuleSchema, channelSchema, silenceWindowSchema } from "../../config/schema.ts";
import { authComponents } from "./auth-schemas.ts";
import { certComponents } from "./cert-schemas.ts";
import { checkComponents } from "./check-schemas.ts";
import { checkResultComponents } from "./check-result-schemas.ts";
import { fleetComponents } from "./fleet-schemas.ts";
import { reportComponents } from "./report-schemas.ts";
import { releaseComponents } from "./release-schemas.ts";
import { alertSilenceComponents, AlertSilenceInput } from "./silence-schemas.ts";

/** A silence window as the API takes it: the config's fields plus a note. */
export const silenceInputSchema = silenceWindowSchema.extend({ note: z.string().max(500).optional() });

/*
 * Request and response shapes of the REST API, declared once: handlers are typed by them,
 * request bodies are validated by them, and the OpenAPI document publishes them as
 * components (routes refer to them with `$ref: '#/components/schemas/<Name>'`).
 */

export const registry = z.registry<{ id: string }>();
function component<T extends z.ZodType>(id: string, schema: T): T {
  registry.add(schema, { id });
  return schema;
}

const isoTime = z.string().describe("ISO 8601 UTC time");
const labels = z.record(z.string(), z.string());

export const ErrorBody = component("Error", z.object({
  error: z.string().describe("what went wrong, naming the parameter or field"),
  code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]),
}));

export const SystemInfo = component("SystemInfo", z.object({
  hostname: z.string(), os: z.string(), kernel: z.string(), arch: z.string(),
  cpuCores: z.number().int(), memoryTotal: z.number(), diskTotal: z.number(), agentVersion: z.string(),
  updateFailedVersion: z.string().optional().describe("a self-update the agent rolled back from"),
  updateFailure: z.string().optional().describe("why that update was rolled back"),
}));

export const Health = component("Health", z.object({
  status: z.literal("ok"),
  version: z.string(),
  uptime_secs: z.number().int(),
  agent_count: z.number().int(),
  active_agents: z.number().int(),
  storage: z.object({ status: z.literal("ok"), partitions: z.number().int(), retention_days: z.number().int() }),
  pid: z.number().int().describe("the process that answered; under PM2 cluster several share the port"),
}));

export const Agent = component("Agent", z.object({
  agent_id: z.string(),
  last_seen: isoTime,
  active: z.boolean().describe("reported within agent_active_secs"),
  first_seen: isoTime,
  dropped_batches: z.number().int().describe("batches the agent dropped from its buffer, summed"),
  system_info: SystemInfo.nullable(),
  agent_version: z.string().nullable().describe("the version the agent last reported (system_info.agentVersion)"),
  failed_update: z.object({ version: z.string(), reason: z.string() }).nullable()
    .describe("the last self-update the agent rolled back from, as it reports it; null when none"),
}));

export const DataPoint = component("DataPoint", z.object({
  agent_id: z.string(),
  metric_name: z.string(),
  labels,
  value: z.number(),
  timestamp: isoTime,
  timestamp_ms: z.number().int(),
}));

export const SeriesResult = component("SeriesResult", z.object({
  agent_id: z.string(),
  metric_name: z.string(),
  from: isoTime,
  to: isoTime,
  step: z.number().int().optional().describe("seconds per bucket, when asked for"),
  series: z.array(z.object({
    labels,
    points: z.array(z.tuple([z.number(), z.number()])).optional().describe("without step: [timestamp_ms, value], oldest first"),
    buckets: z.array(z.tuple([z.number(), z.number(), z.number(), z.number(), z.number().int()])).optional()
      .describe("with step: [bucket_start_ms, min, max, avg, count], oldest first; buckets start at multiples of step since the epoch; empty ones are left out"),
  })),
}));

export const SeriesStatsResult = component("SeriesStatsResult", z.object({
  agent_id: z.string(),
  metric_name: z.string(),
  from: isoTime,
  to: isoTime,
  series: z.array(z.object({
    labels,
    count: z.number().int(), min: z.number(), max: z.number(), avg: z.number(),
    p50: z.number(), p95: z.number(), p99: z.number().describe("percentiles by nearest rank: the smallest value with at least p % of the points at or below it"),
  })),
}));

export const Probe = component("Probe", z.object({
  status: z.enum(["alive", "ready", "not_ready"]),
  checks: z.record(z.string(), z.boolean()),
}));

export const ReportResponse = component("ReportResponse", z.object({ success: z.boolean(), message: z.string() }));

component("MetricBatch", reportJsonSchema);
component("SeedBatch", seedBatchSchema);
component("SeedSample", seedSampleSchema);

const severity = z.enum(["info", "warning", "critical"]);

/** A rule as the API returns it: its fields, plus where it comes from. */
export const AlertRuleOut = component("AlertRule", z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(RULE_TYPES),
  metric: z.string(),
  agent_pattern: z.string(),
  labels: labels,
  severity,
  silence_secs: z.number().int(),
  enabled: z.boolean(),
  source: z.enum(["config", "api"]),
  read_only: z.boolean().describe("rules from server.toml cannot be changed through the API"),
}).catchall(z.unknown()).describe("plus the fields of its type (operator, value, duration_secs, …)"));

export const AlertEventOut = component("AlertEvent", z.object({
  id: z.string(),
  episode_id: z.string().describe("the id of the firing event that opened the episode"),
  status: z.enum(["firing", "resolved"]),
  rule_id: z.string(),
  rule_name: z.string(),
  agent_id: z.string(),
  metric: z.string(),
  labels,
  value: z.number(),
  threshold: z.number(),
  severity,
  message: z.string(),
  fired_at: isoTime,
  resolved_at: isoTime.nullable(),
  predicted_at: isoTime.nullable().describe("trend_prediction: when the metric is expected to cross"),
}));

export const ActiveAlert = component("ActiveAlert", z.object({
  rule_id: z.string(),
  agent_id: z.string(),
  metric: z.string(),
  labels,
  severity,
  value: z.number(),
  threshold: z.number(),
  message: z.string(),
  since: isoTime.nullable(),
  fired_at: isoTime,
  silenced: z.boolean().describe("a new episode within the rule's silence_secs: no notification was sent"),
  predicted_at: isoTime.nullable(),
  episode_id: z.string().nullable().describe("the id of the firing event that opened this episode; acknowledge by it"),
  acknowledged_by: z.string().nullable().describe("who acknowledged this episode (display only: notifications are unchanged)"),
  acknowledged_at: isoTime.nullable(),
  ack_note: z.string().nullable(),
}));

export const AlertAckRequest = component("AlertAckRequest", z.strictObject({
  episode_id: z.string().min(1).max(200).describe("episode_id of a firing alert (GET /v1/alerts/active)"),
  note: z.string().max(500).default("").describe("e.g. 'looking into it'"),
}));

export const AlertHistory = component("AlertHistory", z.object({
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  events: z.array(AlertEventOut),
}));

export const BacktestRequest = component("BacktestRequest", z.strictObject({
  rule_id: z.string().optional().describe("an existing rule; or give `rule`"),
  rule: z.record(z.string(), z.unknown()).optional().describe("an inline rule (AlertRuleInput)"),
  agent_pattern: z.string().min(1).max(200).optional().describe("overrides the rule's agent_pattern"),
  from: z.union([z.string(), z.number()]).describe("ISO 8601 or epoch ms"),
  to: z.union([z.string(), z.number()]).describe("ISO 8601 or epoch ms"),
}));

export const BacktestResult = component("BacktestResult", z.object({
  rule: AlertRuleOut,
  agents: z.number().int().describe("agents the rule was run over"),
  episodes: z.array(z.object({
    agent_id: z.string(), metric: z.string(), labels, severity,
    fired_at: isoTime, resolved_at: isoTime.nullable(), value: z.number(), message: z.string(), predicted_at: isoTime.nullable(),
  })),
}));

export const ChannelOut = component("NotificationChannel", z.object({
  id: z.string(),
  // The config's list, which the channel registry's keys are checked against.
  type: channelSchema.shape.type,
  name: z.string().optional(),
  min_severity: severity,
  send_resolved: z.boolean(),
  read_only: z.boolean().describe("channels from server.toml cannot be changed through the API"),
}).catchall(z.unknown()).describe("plus the fields of its type; secret fields (passwords, keys, robot URLs) read \"***\""));

export const ChannelTestResult = component("ChannelTestResult", z.object({
  ok: z.boolean(), retryable: z.boolean(), status: z.number().int().optional(), detail: z.string(),
}));

export const SilenceOut = component("SilenceWindow", z.object({
  id: z.string(),
  start_time: z.string(), end_time: z.string(),
  recurrence: z.enum(["daily", "weekdays", "weekly", "once"]),
  days: z.array(z.string()).optional(), date: z.string().optional(), timezone: z.string(),
  note: z.string().optional(),
  read_only: z.boolean(),
}));

export const NotificationLog = component("NotificationLog", z.object({
  total: z.number().int(), limit: z.number().int(), offset: z.number().int(),
  entries: z.array(z.object({
    id: z.string(),
    ts: isoTime,
    channel_id: z.string(),
    notification_id: z.string(),
    status: z.enum(["sent", "retry", "failed", "expired", "held", "suppressed"]),
    attempt: z.number().int(),
    http_status: z.number().int().nullable(),
    detail: z.string(),
    events: z.array(z.object({ id: z.string(), status: z.enum(["firing", "resolved"]), rule_name: z.string(), agent_id: z.string() })),
  })),
}));

export const WhitelistAdd = component("WhitelistAdd", z.strictObject({
  agent_id: z.string().describe("printable ASCII without spaces, at most 128 characters"),
  description: z.string().max(500).default(""),
}));

export const WhitelistToken = component("WhitelistToken", z.object({
  agent_id: z.string(),
  token: z.string().describe("shown only now: store it in the agent's auth_token"),
  created_at: isoTime.optional(),
}));

export const WhitelistedAgent = component("WhitelistedAgent", z.object({
  agent_id: z.string(),
  description: z.string(),
  created_at: isoTime,
  last_seen: isoTime.nullable(),
  status: z.enum(["active", "inactive", "unknown"]).describe("unknown: never reported"),
}));

export const WhitelistUpdate = component("WhitelistUpdate", z.strictObject({ description: z.string().max(500) }));

export type ErrorBody = z.infer<typeof ErrorBody>;
export type Health = z.infer<typeof Health>;
export type Agent = z.infer<typeof Agent>;
export type DataPoint = z.infer<typeof DataPoint>;
export type SeriesResult = z.infer<typeof SeriesResult>;
export type SeriesStatsResult = z.infer<typeof SeriesStatsResult>;
export type ReportResponse = z.infer<typeof ReportResponse>;
export type AlertRuleOut = z.infer<typeof AlertRuleOut>;
export type AlertEventOut = z.infer<typeof AlertEventOut>;
export type ActiveAlert = z.infer<typeof ActiveAlert>;
export type AlertHistory = z.infer<typeof AlertHistory>;
export type BacktestResult = z.infer<typeof BacktestResult>;

for (const [id, schema] of Object.entries({ ...certComponents, ...authComponents, ...fleetComponents, ...reportComponents, ...alertSilenceComponents, ...releaseComponents, ...checkComponents, ...checkResultComponents })) component(id, schema);

/** The registry as OpenAPI 3.0 `components.schemas`. */
export function componentSchemas(): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(registry, { target: "openapi-3.0", uri: (id) => `#/components/schemas/${id}` });
  for (const schema of Object.values(schemas)) delete (schema as { $id?: string }).$id;
  // Request bodies with defaults: the input side (defaulted fields optional).
  schemas.AlertRuleInput = z.toJSONSchema(alertRuleSchema, { target: "openapi-3.0", io: "input" });
  schemas.NotificationChannelInput = z.toJSONSchema(channelSchema, { target: "openapi-3.0", io: "input" });
  schemas.SilenceWindowInput = z.toJSONSchema(silenceInputSchema, { target: "openapi-3.0", io: "input" });
  schemas.AlertSilenceInput = z.toJSONSchema(AlertSilenceInput, { target: "openapi-3.0", io: "input" });
  return schemas;
}
