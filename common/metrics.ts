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
