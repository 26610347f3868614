import { z } from "zod";

/**
 * The JSON form of a report (`POST /v1/report`): the proto's field names in snake_case.
 * Declared once: it validates request bodies and is published in the OpenAPI document.
 * Bounds on values (lengths, counts, timestamps) are checked afterwards by validateBatch,
 * exactly as for gRPC.
 */
export const reportJsonSchema = z.object({
  agent_id: z.string(),
  timestamp_ms: z.number().int().optional().describe("epoch ms; default: when the server received it"),
  data_points: z.array(z.object({
    metric_name: z.string(),
    value: z.number(),
    timestamp_ms: z.number().int().optional().describe("epoch ms; default: the batch's timestamp"),
    agent_id: z.string().optional().describe("empty or equal to the batch's agent_id"),
    labels: z.record(z.string(), z.string()).optional(),
  })),
  system_info: z.object({
    hostname: z.string().optional(), os: z.string().optional(), kernel: z.string().optional(), arch: z.string().optional(),
    cpu_cores: z.number().int().nonnegative().optional(), memory_total: z.number().nonnegative().optional(),
    disk_total: z.number().nonnegative().optional(), agent_version: z.string().optional(),
    update_failed_version: z.string().optional(), update_failure: z.string().optional(),
  }).optional().describe("host facts, as the proto's SystemInfoProto"),
  dropped_batches: z.number().int().nonnegative().optional().describe("reports the agent dropped since its last accepted one"),
  stream_id: z.string().optional().describe("the agent's stream identity: with sequence, the report's exactly-once key"),
  sequence: z.number().int().nonnegative().optional().describe("the report's number in its stream; a resend of a stored one is acknowledged, not stored again"),
});

export type ReportJson = z.infer<typeof reportJsonSchema>;
