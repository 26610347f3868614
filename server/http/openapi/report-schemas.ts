import { z } from "zod";

/*
 * The shape of GET /v1/reports (JSON; the CSV form has one row per host and per check with
 * the same figures). Published as components by schemas.ts through `reportComponents`.
 */

const isoTime = z.string().describe("ISO 8601 UTC time");
const peak = z.object({
  p95: z.number().describe("95th percentile of the one-minute means"),
  max: z.number().describe("the highest point"),
}).nullable().describe("null when the host sent none in the period");

export const AvailabilityReportCheck = z.object({
  check: z.string(),
  type: z.string(),
  target: z.string(),
  availability_percent: z.number().describe("percent of this agent's probes of the check that found it up"),
  probes: z.number().int(),
});

export const AvailabilityReportHost = z.object({
  agent_id: z.string(),
  availability_percent: z.number().nullable().describe("percent of the period, from the agent's first report on, covered by its reports (each minute with a report covers the agent's usual interval); null when the agent first reported after the period"),
  covered_minutes: z.number().describe("minutes covered by reports"),
  period_minutes: z.number().describe("minutes of the period since the agent's first report"),
  report_interval_secs: z.number().int().describe("the agent's usual reporting interval as its data shows it (60 at least)"),
  alerts: z.number().int().describe("alert episodes that fired on the host in the period"),
  firing_seconds: z.number().int().describe("seconds of the period during which at least one alert fired on the host"),
  cpu: peak.describe("cpu.usage (percent)"),
  memory: peak.describe("memory.used_percent"),
  disk: z.object({
    p95: z.number(), max: z.number(), mount: z.string().optional(),
  }).nullable().describe("disk.used_percent of the fullest mount (by p95), named in `mount`; null without data"),
  checks: z.array(AvailabilityReportCheck),
});

export const AvailabilityReport = z.object({
  from: isoTime,
  to: isoTime,
  generated_at: isoTime,
  agents_pattern: z.string().describe("the globs asked for"),
  hosts: z.array(AvailabilityReportHost).describe("sorted by agent id"),
});

export type AvailabilityReport = z.infer<typeof AvailabilityReport>;
export type AvailabilityReportHost = z.infer<typeof AvailabilityReportHost>;

export const reportComponents = { AvailabilityReport, AvailabilityReportHost, AvailabilityReportCheck };
