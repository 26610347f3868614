/*
 * The Network page's data: the reachability matrix (GET /v1/reachability/matrix, one call
 * per metric) folded into rows of source agents × columns of targets, and how a cell reads.
 */
import type { Aligned } from "./columns.ts";

export type MatrixMetric = "check.rtt_ms" | "check.loss_percent" | "check.up";
export interface MatrixCell { source_agent: string; check: string; type: string; target: string; target_agent?: string; value: number; timestamp_ms: number }
export interface MatrixResponse { metric_name: MatrixMetric; cells: MatrixCell[] }

/** One column: a check (its target), or the agent a mesh check probes. */
export interface MatrixColumn { key: string; check: string; label: string; title: string }
export interface CellFigures { rtt?: number; loss?: number; up?: number; atMs: number }
export interface Matrix { sources: string[]; columns: MatrixColumn[]; cells: Map<string, CellFigures> }

export const cellKey = (source: string, column: string) => `${source}\u0000${column}`;

/** Rows, columns and the figures of each (source, check) pair from the three matrix answers. */
export function buildMatrix(answers: readonly MatrixResponse[]): Matrix {
  const sources = new Set<string>();
  const columns = new Map<string, MatrixColumn>();
  const cells = new Map<string, CellFigures>();
  const field = { "check.rtt_ms": "rtt", "check.loss_percent": "loss", "check.up": "up" } as const;
  for (const answer of answers) {
    for (const c of answer.cells) {
      sources.add(c.source_agent);
      // Mesh checks are named by the agent they probe; an icmp and a tcp one are two columns.
      const key = c.target_agent !== undefined ? `agent:${c.target_agent}|${c.type}` : `check:${c.check}`;
      if (!columns.has(key)) {
        columns.set(key, c.target_agent !== undefined
          ? { key, check: c.check, label: c.type === "icmp" ? c.target_agent : `${c.target_agent} (${c.type})`, title: `mesh check ${c.check} (${c.type} ${c.target})` }
          : { key, check: c.check, label: c.check, title: `${c.type} ${c.target}` });
      }
      const k = cellKey(c.source_agent, key);
      const figures = cells.get(k) ?? { atMs: c.timestamp_ms };
      figures[field[answer.metric_name]] = c.value;
      figures.atMs = Math.max(figures.atMs, c.timestamp_ms);
      cells.set(k, figures);
    }
  }
  const byLabel = (a: MatrixColumn, b: MatrixColumn) => a.label.localeCompare(b.label);
  return { sources: [...sources].sort(), columns: [...columns.values()].sort(byLabel), cells };
}

export type CellState = "down" | "lossy" | "slow" | "ok" | "unknown";

/** Down when the last probe failed; lossy from 1 % loss; slow from 100 ms; else ok. */
export function cellState(f: CellFigures | undefined): CellState {
  if (!f) return "unknown";
  if (f.up === 0 || f.loss === 100) return "down";
  if ((f.loss ?? 0) >= 1) return "lossy";
  if ((f.rtt ?? 0) >= 100) return "slow";
  return f.up === 1 || f.rtt !== undefined ? "ok" : "unknown";
}

/** /v1/query's columns (one grid, one series per agent) as a chart's aligned data. */
export interface QueryColumns { timestamps: number[]; series: { agent_id: string; labels: Record<string, string>; min: (number | null)[]; max: (number | null)[]; avg: (number | null)[]; count: number[] }[] }
export function queryAsAligned(q: QueryColumns): { names: string[]; data: Aligned } {
  return {
    names: q.series.map((s) => s.agent_id),
    data: {
      x: q.timestamps.map((t) => t / 1000),
      avg: q.series.map((s) => s.avg), min: q.series.map((s) => s.min), max: q.series.map((s) => s.max),
      downsampled: q.series.some((s) => s.count.some((n, i) => n > 1 && s.min[i] !== s.max[i])),
    },
  };
}

/** Down periods from a check's events (down … up), per agent merged: [start, end | null]. */
export function downSpans(events: readonly { kind: string; timestamp_ms: number; up: boolean }[]): [number, number | null][] {
  const spans: [number, number | null][] = [];
  let since: number | null = null;
  for (const e of [...events].sort((a, b) => a.timestamp_ms - b.timestamp_ms)) {
    if (e.kind === "traceroute") continue;
    if (!e.up && since === null) since = e.timestamp_ms;
    else if (e.up && since !== null) {
      spans.push([since, e.timestamp_ms]);
      since = null;
    }
  }
  if (since !== null) spans.push([since, null]);
  return spans;
}
