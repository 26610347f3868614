import type { AlertStore } from "../storage/alert-store.ts";
import type { AgentRecord } from "../storage/control-store.ts";
import type { MetricStore } from "../storage/metric-store.ts";
import type { AvailabilityReport as Report, AvailabilityReportHost as ReportHost } from "../http/openapi/report-schemas.ts";
import { alertEpisodes, type AlertEpisode } from "./alert-episodes.ts";
import { availability, coveredMs, peakFigures, REPORT_STEP_MS, upPercent } from "./figures.ts";

export interface ReportRequest {
  agents: readonly AgentRecord[];
  agentsPattern: string;
  fromMs: number;
  toMs: number;
  nowMs: number;
}

/** A host's report over [fromMs, toMs): availability, alerts, peaks of CPU/memory/disk and its checks. */
export function buildReport(store: MetricStore, alerts: AlertStore, req: ReportRequest): Report {
  const endMs = Math.min(req.toMs, req.nowMs);
  const episodes = episodesByAgent(alerts, req.fromMs);
  const minuteBuckets = (agent: string, metric: string) => store.buckets(agent, metric, req.fromMs, endMs, REPORT_STEP_MS);
  const hosts = req.agents.map((record): ReportHost => {
    const agent = record.agent_id;
    // Minutes before the agent first reported are not downtime: it was not monitored yet.
    const since = Math.max(req.fromMs, record.first_seen);
    const cpu = minuteBuckets(agent, "cpu.usage");
    const reported = new Set(cpu.flatMap((s) => s.buckets.map((b) => b[0])));
    const covered = availability([...reported], since, endMs);
    const minutes = (ms: number) => Math.round(ms / 600) / 100;
    const mine = episodes.get(agent) ?? [];
    const disks = minuteBuckets(agent, "disk.used_percent")
      .map((s) => ({ mount: s.labels.mount, figures: peakFigures(s.buckets) }))
      .filter((d) => d.figures !== null)
      .sort((a, b) => b.figures!.p95 - a.figures!.p95);
    return {
      agent_id: agent,
      availability_percent: covered.percent,
      covered_minutes: minutes(covered.coveredMs),
      period_minutes: minutes(Math.max(0, endMs - since)),
      report_interval_secs: covered.intervalMs / 1000,
      alerts: mine.filter((e) => e.firedAt >= req.fromMs && e.firedAt < req.toMs).length,
      firing_seconds: Math.round(coveredMs(mine.map((e) => [e.firedAt, e.resolvedAt ?? req.nowMs]), req.fromMs, endMs) / 1000),
      cpu: peakFigures(cpu.flatMap((s) => s.buckets)),
      memory: peakFigures(minuteBuckets(agent, "memory.used_percent").flatMap((s) => s.buckets)),
      disk: disks[0] ? { ...disks[0].figures!, ...(disks[0].mount !== undefined && { mount: disks[0].mount }) } : null,
      checks: minuteBuckets(agent, "check.up").flatMap((s) => {
        const up = upPercent(s.buckets);
        return up ? [{ check: s.labels.check ?? "", type: s.labels.type ?? "", target: s.labels.target ?? "", availability_percent: up.percent, probes: up.probes }] : [];
      }).sort((a, b) => a.check.localeCompare(b.check)),
    };
  });
  return {
    from: new Date(req.fromMs).toISOString(), to: new Date(req.toMs).toISOString(), generated_at: new Date(req.nowMs).toISOString(),
    agents_pattern: req.agentsPattern, hosts,
  };
}

/** Every alert episode since `fromMs` (and those firing since before it), by agent. */
function episodesByAgent(alerts: AlertStore, fromMs: number): Map<string, AlertEpisode[]> {
  const events = alerts.history.getRange({ start: [fromMs, ""] }).map(({ value }) => value);
  const byAgent = new Map<string, AlertEpisode[]>();
  for (const e of alertEpisodes(events, alerts.active())) {
    const list = byAgent.get(e.agentId);
    if (list) list.push(e);
    else byAgent.set(e.agentId, [e]);
  }
  return byAgent;
}
