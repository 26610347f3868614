import type { SparkData } from "./sparkline.ts";
import { pushPoint } from "./sparkline.ts";
import type { LiveMessage } from "./live.ts";

/*
 * The fleet page's data, kept outside the UI library: live batches change it in place and
 * the cards that changed are redrawn directly; the page re-renders only when a status
 * changes (counts, badges) — never once per report. Agents come from /v1/agents; their
 * 15 minutes of history arrive later, a chunk of /v1/overview at a time.
 */
export type Status = "online" | "offline" | "alerting";
export const SPARK_WINDOW_MS = 15 * 60_000;
export const SPARK_METRICS = ["cpu.usage", "memory.used_percent", "disk.used_percent", "network.bytes_recv"] as const;
export const LIVE_METRICS = [...SPARK_METRICS, "load.uptime"];
/** What the page asks /v1/overview for: the sparklines and the uptime. */
export const OVERVIEW_METRICS = LIVE_METRICS;

export interface AgentCard {
  id: string;
  active: boolean;
  lastSeen: number;
  firing: Set<string>;
  cpu: SparkData; memory: SparkData; disk: SparkData; network: SparkData;
  uptimeSecs: number | undefined;
  os: string | undefined;
  /** True once /v1/overview's history for it is in (before, only live points). */
  history: boolean;
}

export interface Overview {
  step: number;
  timestamps: number[];
  agents: { agent_id: string; status: Status; active: boolean; firing_alerts: number; last_seen: string; series: { metric_name: string; labels: Record<string, string>; avg: (number | null)[] }[] }[];
}
export interface AgentInfo { agent_id: string; active: boolean; last_seen: string; system_info: { os: string; hostname: string; agentVersion: string } | null }
export interface ActiveAlert {
  rule_id: string; agent_id: string; metric: string; labels: Record<string, string>; severity: string; message: string; fired_at: string;
  episode_id?: string | null; acknowledged_by?: string | null; ack_note?: string | null;
}

export function lastOf(d: SparkData): number | undefined {
  return d.v[d.v.length - 1];
}

export function statusOf(a: AgentCard): Status {
  return a.firing.size > 0 ? "alerting" : a.active ? "online" : "offline";
}

const alertKey = (ruleId: string, labels: Record<string, string>) => `${ruleId}|${JSON.stringify(labels)}`;

/** One value per bucket from several series: the max of disks, the sum of interfaces. */
function combine(series: Overview["agents"][number]["series"], metric: string, timestamps: number[], how: "max" | "sum"): SparkData {
  const picked = series.filter((s) => s.metric_name === metric && s.labels.interface !== "lo");
  const out: SparkData = { t: [], v: [] };
  for (let i = 0; i < timestamps.length; i++) {
    let acc: number | undefined;
    for (const s of picked) {
      const v = s.avg[i];
      if (v == null) continue;
      acc = acc === undefined ? v : how === "max" ? Math.max(acc, v) : acc + v;
    }
    if (acc !== undefined) {
      out.t.push(timestamps[i]!);
      out.v.push(acc);
    }
  }
  return out;
}

function lastValue(values: (number | null)[] | undefined): number | undefined {
  for (let i = (values?.length ?? 0) - 1; i >= 0; i--) if (values![i] != null) return values![i]!;
  return undefined;
}

export class FleetModel {
  readonly agents = new Map<string, AgentCard>();

  /**
   * History for the agents in a /v1/overview reply. Live points that arrived before it
   * (newer than its last bucket) stay after it.
   */
  ingestOverview(overview: Overview): string[] {
    const ts = overview.timestamps.map((t) => t + (overview.step * 1000) / 2);
    const done: string[] = [];
    for (const o of overview.agents) {
      const a = this.agents.get(o.agent_id);
      if (!a) continue;
      const merge = (live: SparkData, old: SparkData) => {
        const end = old.t[old.t.length - 1] ?? -Infinity;
        for (let i = 0; i < live.t.length; i++) if (live.t[i]! > end) pushPoint(old, live.t[i]!, live.v[i]!, -Infinity);
        return old;
      };
      a.cpu = merge(a.cpu, combine(o.series, "cpu.usage", ts, "max"));
      a.memory = merge(a.memory, combine(o.series, "memory.used_percent", ts, "max"));
      a.disk = merge(a.disk, combine(o.series, "disk.used_percent", ts, "max"));
      a.network = merge(a.network, combine(o.series, "network.bytes_recv", ts, "sum"));
      a.uptimeSecs ??= lastValue(o.series.find((s) => s.metric_name === "load.uptime")?.avg);
      a.history = true;
      done.push(a.id);
    }
    return done;
  }

  /**
   * /v1/agents: every agent, online/offline as the server decides it, and the OS. Returns
   * the agents new to the page and whether a known one's status changed.
   */
  applyAgents(infos: AgentInfo[]): { added: string[]; statusChanged: boolean } {
    let changed = false;
    const added: string[] = [];
    for (const info of infos) {
      let a = this.agents.get(info.agent_id);
      if (!a) {
        a = {
          id: info.agent_id, active: info.active, lastSeen: 0, firing: new Set(), history: false,
          cpu: { t: [], v: [] }, memory: { t: [], v: [] }, disk: { t: [], v: [] }, network: { t: [], v: [] }, uptimeSecs: undefined, os: undefined,
        };
        this.agents.set(a.id, a);
        added.push(a.id);
      }
      const before = statusOf(a);
      a.active = info.active;
      a.lastSeen = Math.max(a.lastSeen, Date.parse(info.last_seen));
      if (info.system_info) a.os = info.system_info.os;
      changed ||= statusOf(a) !== before;
    }
    return { added, statusChanged: changed || added.length > 0 };
  }

  /** /v1/alerts/active, the whole truth: replaces what live events said. */
  applyAlerts(alerts: ActiveAlert[]): boolean {
    const before = new Map([...this.agents.values()].map((a) => [a.id, statusOf(a)]));
    for (const a of this.agents.values()) a.firing.clear();
    for (const al of alerts) this.agents.get(al.agent_id)?.firing.add(alertKey(al.rule_id, al.labels));
    return [...this.agents.values()].some((a) => statusOf(a) !== before.get(a.id));
  }

  /** A frame's worth of live messages; returns the agents whose data changed and whether any status did. */
  applyBatch(batch: LiveMessage[], now = Date.now()): { changed: Set<string>; statusChanged: boolean; unknown: boolean } {
    const changed = new Set<string>();
    let statusChanged = false, unknown = false;
    const from = now - SPARK_WINDOW_MS;
    for (const msg of batch) {
      const agentId = msg.type === "report" ? msg.agent_id : msg.event.agent_id;
      const a = this.agents.get(agentId);
      if (!a) {
        unknown = true;
        continue;
      }
      const before = statusOf(a);
      if (msg.type === "alert") {
        const key = alertKey(msg.event.rule_id, msg.event.labels);
        if (msg.event.status === "firing") a.firing.add(key);
        else a.firing.delete(key);
      } else {
        let t = 0, disk: number | undefined, net: number | undefined;
        for (const v of msg.values) {
          t = Math.max(t, v.timestamp_ms);
          if (v.metric === "cpu.usage") pushPoint(a.cpu, v.timestamp_ms, v.value, from);
          else if (v.metric === "memory.used_percent") pushPoint(a.memory, v.timestamp_ms, v.value, from);
          else if (v.metric === "disk.used_percent") disk = Math.max(disk ?? 0, v.value);
          else if (v.metric === "network.bytes_recv" && v.labels.interface !== "lo") net = (net ?? 0) + v.value;
          else if (v.metric === "load.uptime") a.uptimeSecs = v.value;
        }
        if (disk !== undefined) pushPoint(a.disk, t, disk, from);
        if (net !== undefined) pushPoint(a.network, t, net, from);
        a.lastSeen = Math.max(a.lastSeen, t);
        a.active = true;
      }
      changed.add(agentId);
      statusChanged ||= statusOf(a) !== before;
    }
    return { changed, statusChanged, unknown };
  }
}
