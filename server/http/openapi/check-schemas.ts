import { z } from "zod";

/*
 * Request and response shapes of the server-managed checks and agent settings
 * (server/agent-config). Published as components by schemas.ts through `checkComponents`.
 * A check's own fields are validated by its type's schema on the agent side
 * (agent/checks/*.ts, docs/checks.md); here they are open-ended.
 */

const isoTime = z.string().describe("ISO 8601 UTC time");
const agentPattern = z.string().min(1).max(200).describe("glob of agent ids that run the check (* any run, ? one character); default *");
const checkFields = {
  name: z.string().regex(/^[A-Za-z0-9._:-]+$/).max(128).describe("unique; the check's id in URLs and its `check` label; names starting with mesh: or mesh-tcp: are reserved"),
  type: z.string().describe("tcp, udp, http, https, dns, … (the agent's check types)"),
  target: z.string().min(1).max(256),
  interval_secs: z.number().min(1).max(86_400).optional().describe("default 30"),
  timeout_ms: z.number().int().min(1).max(120_000).optional().describe("default min(5000, interval)"),
};

export const CheckInput = z.looseObject({ ...checkFields, agent_pattern: agentPattern.optional() })
  .describe("A [[checks]] table of agent.toml (its type's fields too: port, expect_status, expect_body, …) plus agent_pattern");

export const ServerCheck = z.looseObject({ ...checkFields, agent_pattern: agentPattern, created_at: isoTime, updated_at: isoTime });

export const collectionIntervalSecs = z.number().min(0.1).max(86_400).describe("replaces the agent's collection_interval_secs");
export const collectorSwitches = z.record(z.string().regex(/^[a-z0-9-]{1,64}$/), z.boolean())
  .refine((r) => Object.keys(r).length <= 32, "at most 32 collectors")
  .describe("collector name (cpu, memory, disk, disk-io, network, load, gpu, dir-size) → on (true) or off (false); collectors not named keep running");

export const AgentSettingsInput = z.strictObject({
  collection_interval_secs: collectionIntervalSecs.optional(),
  collectors: collectorSwitches.optional(),
});

export const AgentSettingsOut = z.object({
  pattern: agentPattern,
  collection_interval_secs: collectionIntervalSecs.optional(),
  collectors: collectorSwitches.optional(),
  updated_at: isoTime,
});

export const EffectiveAgentConfig = z.object({
  agent_id: z.string(),
  version: z.string().describe("hash of the config; unchanged version, unchanged config"),
  checks: z.array(z.looseObject({ name: z.string(), type: z.string(), target: z.string() })),
  collection_interval_secs: collectionIntervalSecs.optional(),
  collectors: z.record(z.string(), z.boolean()),
});

export const checkComponents = { CheckInput, ServerCheck, AgentSettingsInput, AgentSettingsOut, EffectiveAgentConfig };
