import { z } from "zod";
import { CHECK_EVENT_KINDS } from "../../common/check-events.ts";

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
  check_events: z.array(z.object({
    check: z.string().describe("the check's name (its samples' `check` label)"),
    type: z.string().optional(),
    target: z.string().optional(),
    timestamp_ms: z.number().int().optional().describe("epoch ms; default: the batch's timestamp"),
    kind: z.enum(CHECK_EVENT_KINDS).describe("first: the check's first result; down/up: a change; traceroute: a traced path"),
    up: z.boolean().optional(),
    reason_code: z.string().optional().describe("why it was down: refused, unreachable, timeout, dns, tls, expect, error"),
    reason_message: z.string().optional(),
    detail: z.string().optional(),
    hops: z.array(z.object({
      ttl: z.number().int(),
      address: z.string().optional().describe("absent: no probe at this TTL was answered"),
      rtt_ms: z.array(z.number().nullable()).optional().describe("per probe; null (or negative) for no answer"),
    })).optional().describe("kind traceroute: the path in TTL order"),
  })).optional().describe("what the agent's checks saw happen (the proto's CheckEventProto)"),
});

export type ReportJson = z.infer<typeof reportJsonSchema>;
