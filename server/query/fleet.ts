import type { Labels } from "../../common/metrics.ts";
import { anyGlob } from "../../common/glob.ts";
import type { MetricStore } from "../storage/metric-store.ts";
import { bucketGrid, toGridColumns, type BucketColumns } from "./bucket-grid.ts";

/*
 * Fleet reads: the same metrics of many agents in step buckets on one shared grid. Each
 * agent is read by MetricStore.bucketsOf, the read behind /v1/metrics?step (raw days, sealed
 * days, rollups), so an agent's buckets here are exactly the ones it gets there.
 */

/** Agent ids matching any of the globs, sorted (no globs: every agent). */
export function selectAgents(agentIds: Iterable<string>, globs: readonly string[]): string[] {
  const matches = anyGlob(globs.length ? globs : ["*"]);
  return [...agentIds].filter(matches).sort();
}

export interface FleetRead {
  agentIds: readonly string[];
  metrics: readonly string[];
  fromMs: number;
  toMs: number;
  stepMs: number;
  labels?: Labels;
  /** Which bucket columns to return (a sparkline needs only avg). */
  fields?: readonly (keyof BucketColumns)[];
}

export interface FleetSeries extends Partial<BucketColumns> {
  agent_id: string;
  metric: string;
  labels: Labels;
}

/** Every matching series of every agent on the grid `timestamps`; agents in the order given, series by key. */
export function fleetBuckets(store: Pick<MetricStore, "bucketsOf" | "gridOf" | "consistentRead">, read: FleetRead): { timestamps: number[]; series: FleetSeries[] } {
  const timestamps = bucketGrid(read.fromMs, read.toMs, read.stepMs);
  const grid = { startMs: timestamps[0] ?? 0, stepMs: read.stepMs, length: timestamps.length };
  // One listing of the partition files for every agent, not one per agent and day. Most
  // agents' recent data goes straight onto the grid; the rest is read the general way.
  const series: FleetSeries[] = [];
  store.consistentRead(() => {
    for (const agentId of read.agentIds) {
      const quick = store.gridOf(agentId, read.metrics, read.fromMs, read.toMs, grid, read.labels, read.fields);
      if (quick) for (const s of quick) series.push(fleetSeries(agentId, s.metric, s.labels, s.columns()));
      else {
        for (const s of store.bucketsOf(agentId, read.metrics, read.fromMs, read.toMs, read.stepMs, read.labels)) {
          series.push(fleetSeries(agentId, s.metric, s.labels, toGridColumns(s.buckets, grid.startMs, read.stepMs, grid.length, read.fields)));
        }
      }
    }
  });
  return { timestamps, series };
}

/** One shape for every series (no object spread: a fleet read makes thousands). */
function fleetSeries(agentId: string, metric: string, labels: Labels, c: Partial<BucketColumns>): FleetSeries {
  return { agent_id: agentId, metric, labels, min: c.min, max: c.max, avg: c.avg, count: c.count };
}

export type AgentStatus = "online" | "offline" | "alerting";

/** Alerting while any alert fires on the agent; otherwise online or offline as /v1/agents decides (`active`). */
export function agentStatus(lastSeenMs: number, nowMs: number, activeMs: number, firingAlerts: number): AgentStatus {
  if (firingAlerts > 0) return "alerting";
  return nowMs - lastSeenMs <= activeMs ? "online" : "offline";
}
