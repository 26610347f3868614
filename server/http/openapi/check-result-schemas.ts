import { z } from "zod";
import { CHECK_EVENT_KINDS } from "../../../common/check-events.ts";

/*
 * Shapes of the reachability reads: a check's results (/v1/checks/{id}/results), traced
 * paths (/v1/traceroutes) and the matrix (/v1/reachability/matrix). Published as components
 * by schemas.ts through `checkResultComponents`.
 */

const isoTime = z.string().describe("ISO 8601 UTC time");
const labels = z.record(z.string(), z.string());

export const CheckEventOut = z.object({
  agent_id: z.string(),
  check: z.string(),
  type: z.string(),
  target: z.string(),
  timestamp_ms: z.number().int(),
  kind: z.enum(CHECK_EVENT_KINDS).describe("first: the check's first result since the agent started; down: it went down (with the reason); up: it answers again; traceroute: a traced path"),
  up: z.boolean(),
  reason_code: z.string().optional().describe("why it was down: refused, unreachable, timeout, dns, tls, expect or error"),
  reason_message: z.string().optional(),
  detail: z.string().optional(),
});

export const CheckResults = z.object({
  check: z.string().describe("the check's name (its id)"),
  from: isoTime,
  to: isoTime,
  agents: z.array(z.object({
    agent_id: z.string(),
    series: z.array(z.object({
      metric_name: z.enum(["check.up", "check.rtt_ms"]),
      labels,
      timestamps: z.array(z.number()).describe("epoch ms, oldest first"),
      values: z.array(z.number()),
    })),
    events: z.array(CheckEventOut).describe("first results, downs with their reasons and recoveries, oldest first"),
  })).describe("every agent with a result or event of the check in the range, by id"),
});

export const TracerouteOut = CheckEventOut.extend({
  hops: z.array(z.object({
    ttl: z.number().int(),
    address: z.string().optional().describe("absent: no probe at this TTL was answered (*)"),
    rtt_ms: z.array(z.number().nullable()).describe("per probe; null for a probe without answer (*)"),
  })),
});

export const TracerouteList = z.object({
  from: isoTime,
  to: isoTime,
  traceroutes: z.array(TracerouteOut).describe("newest first"),
});

export const ReachabilityMatrix = z.object({
  metric_name: z.enum(["check.rtt_ms", "check.loss_percent", "check.up"]),
  cells: z.array(z.object({
    source_agent: z.string().describe("the agent that runs the check"),
    check: z.string(),
    type: z.string(),
    target: z.string().describe("the check's `target` label"),
    target_agent: z.string().optional().describe("for a mesh check (named mesh:<agent_id> or mesh-tcp:<agent_id>): the agent probed"),
    value: z.number(),
    timestamp_ms: z.number().int().describe("when the value was measured"),
  })).describe("the latest value per (source agent, check), by source agent then check"),
});

export const checkResultComponents = { CheckEventOut, CheckResults, TracerouteOut, TracerouteList, ReachabilityMatrix };

export type CheckResults = z.infer<typeof CheckResults>;
export type TracerouteList = z.infer<typeof TracerouteList>;
export type ReachabilityMatrix = z.infer<typeof ReachabilityMatrix>;
