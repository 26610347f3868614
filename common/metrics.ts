import type { CheckEvent } from "./check-events.ts";

/** Label set of one series, e.g. `{ mount: "/data" }`. */
export type Labels = Readonly<Record<string, string>>;

/** One sample as an agent reports it (the proto's MetricDataPointProto). */
export interface MetricPoint {
  timestampMs: number;
  metric: string;
  value: number;
  labels: Labels;
}

/** Host facts the tsmon agent sends with every batch. */
export interface SystemInfo {
  hostname: string;
  os: string;
  kernel: string;
  arch: string;
  cpuCores: number;
  memoryTotal: number;
  diskTotal: number;
  agentVersion: string;
  /** A self-update the agent rolled back from (agent/update/), and why. */
  updateFailedVersion?: string;
  updateFailure?: string;
}

/** One report: what the agent sends and the server validates as a whole. */
export interface MetricBatch {
  agentId: string;
  timestampMs: number;
  points: MetricPoint[];
  systemInfo?: SystemInfo;
  droppedBatches?: number;
  /** The agent's stream identity (with `sequence`, the report's exactly-once key). */
  streamId?: string;
  /** The report's number in its stream. */
  sequence?: number;
  /** What the agent's checks saw happen (proto field check_events); absent: none. */
  checkEvents?: CheckEvent[];
}

/** Canonical identity of a series within one agent: `metric{k="v",...}` with sorted keys. */
export function seriesKey(metric: string, labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return metric;
  keys.sort();
  let out = metric + "{";
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out += (i ? "," : "") + k + "=" + JSON.stringify(labels[k]);
  }
  return out + "}";
}

/**
 * The metric and labels of a series key (the inverse of seriesKey, for names that pass
 * ingest's validation: metric names have no `{`, label keys no `=` or `,`).
 */
export function parseSeriesKey(key: string): { metric: string; labels: Labels } {
  const open = key.indexOf("{");
  if (open < 0) return { metric: key, labels: {} };
  const labels: Record<string, string> = {};
  let at = open + 1;
  while (at < key.length - 1) {
    const eq = key.indexOf("=", at);
    // The value is a JSON string: find its closing quote, stepping over escapes.
    let end = eq + 2;
    while (key[end] !== '"') end += key[end] === "\\" ? 2 : 1;
    labels[key.slice(at, eq)] = JSON.parse(key.slice(eq + 1, end + 1)) as string;
    at = end + 2;
  }
  return { metric: key.slice(0, open), labels };
}
