import { z } from "zod";
import type { Labels, MetricBatch, MetricPoint } from "../../common/metrics.ts";
import { TsmonError } from "../../common/errors.ts";
import type { FieldNames } from "./validate.ts";
import { SEED_METRIC_NAMES, tsmonMetricName } from "./seed-metric-names.ts";

/*
 * The seeds' HTTP shapes (`POST /api/report`, `POST /api/v1/metrics`), declared once: they
 * validate request bodies and are published in the OpenAPI document. Decoding turns them
 * into an ordinary MetricBatch plus the field names validation uses, so a refusal names
 * the field as the seed sent it (`samples[2].metrics.cpu_usage`), not as tsmon stores it.
 */

const timestamp = z.union([z.number(), z.string()]).describe("epoch ms or ISO 8601; default: when the server received it");

export const seedBatchSchema = z.object({
  agent_id: z.string().optional().describe("default: the agent the bearer token belongs to"),
  samples: z.array(z.object({
    timestamp: timestamp.optional(),
    metrics: z.record(z.string(), z.number()).describe("flat names (cpu_usage, ram_usage, …; see docs/api.md) or tsmon metric names"),
    labels: z.record(z.string(), z.string()).optional().describe("labels of every metric of the sample"),
  })),
  stream_id: z.string().optional().describe("as in POST /v1/report: with sequence, the batch's exactly-once key"),
  sequence: z.number().int().nonnegative().optional().describe("the batch's number in its stream; a resend of a stored one is acknowledged, not stored again"),
});

const knownFlat = Object.fromEntries(Object.keys(SEED_METRIC_NAMES).map((name) => [name, z.number().optional()]));

export const seedSampleSchema = z.object({
  agent_id: z.string().optional().describe("default: the agent the bearer token belongs to"),
  timestamp: timestamp.optional(),
  ...knownFlat,
}).catchall(z.number()).describe("one flat sample: every field but agent_id and timestamp is a metric");

export type SeedShape = "batch" | "flat";

/** A decoded seed report: the batch, and how its points are named in the seed's body. */
export interface SeedReport { batch: MetricBatch; fields: FieldNames }

/** Where point i came from in the body, for error messages. */
interface Origin { metric: string; timestamp: string; labels: string }

/**
 * Decodes either shape; `tokenAgent` is the agent the bearer token belongs to (the default
 * agent id). Throws INVALID_ARGUMENT naming the field of the body.
 */
export function decodeSeedReport(body: unknown, shape: SeedShape, tokenAgent: string | undefined, nowMs: number): SeedReport {
  const origins: Origin[] = [];
  const points: MetricPoint[] = [];
  const add = (where: Origin, metrics: Record<string, number>, ts: number, labels: Labels) => {
    for (const [name, value] of Object.entries(metrics)) {
      origins.push({ ...where, metric: where.metric + name });
      points.push({ timestampMs: ts, metric: tsmonMetricName(name), value, labels });
    }
  };
  let agentId: string | undefined;
  let key: { streamId?: string; sequence?: number } = {};
  if (shape === "batch") {
    const b = parse(seedBatchSchema, body);
    agentId = b.agent_id;
    if (b.stream_id !== undefined) key = { streamId: b.stream_id, ...(b.sequence !== undefined && { sequence: b.sequence }) };
    b.samples.forEach((s, i) => {
      const at = `samples[${i}]`;
      const where = { metric: `${at}.metrics.`, timestamp: `${at}.timestamp`, labels: `${at}.labels` };
      add(where, s.metrics, parseTimestamp(s.timestamp, where.timestamp, nowMs), s.labels ?? {});
    });
  } else {
    const { agent_id, timestamp: ts, ...metrics } = parse(seedSampleSchema, body);
    agentId = agent_id;
    add({ metric: "", timestamp: "timestamp", labels: "labels" }, metrics as Record<string, number>, parseTimestamp(ts, "timestamp", nowMs), {});
  }
  agentId ??= tokenAgent;
  if (agentId === undefined) throw new TsmonError("INVALID_ARGUMENT", "agent_id: required unless the bearer token is an agent's (POST /v1/agents/whitelist gives one)");
  const fields: FieldNames = {
    points: shape === "batch" ? "samples" : "metrics",
    point: (i, field) => {
      const o = origins[i]!;
      return field === "timestamp_ms" ? o.timestamp : field === "labels" ? o.labels : o.metric;
    },
  };
  return { batch: { agentId, timestampMs: points[0]?.timestampMs ?? nowMs, points, droppedBatches: 0, ...key }, fields };
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new TsmonError("INVALID_ARGUMENT", `${fieldPath(issue.path) || "body"}: ${issue.message}`);
}

/** `["samples", 0, "metrics", "cpu_usage"]` → `samples[0].metrics.cpu_usage`. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : (i ? "." : "") + String(k))).join("");
}

// A date, then optionally a time with an offset: what the seeds send ("2023-07-20T12:34:56Z").
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/** Epoch ms or ISO 8601 → epoch ms; absent → now. Range checks are validation's. */
export function parseTimestamp(value: number | string | undefined, field: string, nowMs: number): number {
  if (value === undefined) return nowMs;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value <= 0) throw new TsmonError("INVALID_ARGUMENT", `${field}: must be a positive integer of epoch milliseconds or an ISO 8601 time`);
    return value;
  }
  // A time without an offset is UTC: the server's own zone must not change what is stored.
  const text = value.replace(" ", "T");
  const ms = ISO_8601.test(value) ? Date.parse(/T.*(?:Z|[+-]\d{2}:\d{2})$|^[^T]*$/.test(text) ? text : `${text}Z`) : NaN;
  if (!Number.isFinite(ms)) {
    throw new TsmonError("INVALID_ARGUMENT", `${field}: "${value.slice(0, 40)}" is not an ISO 8601 time (like 2023-07-20T12:34:56Z) or epoch milliseconds`);
  }
  return ms;
}
