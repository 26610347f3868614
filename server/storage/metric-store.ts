import { createHash } from "node:crypto";
import type { RootDatabase } from "lmdb";
import { seriesKey, type Labels, type MetricPoint } from "../../common/metrics.ts";
import { dayOf } from "./days.ts";
import type { PartitionSet } from "./partitions.ts";

/*
 * Layout (the storage issue may change it; callers only see this module's API):
 * one record per (agent, timestamp) in the partition of that timestamp's UTC day,
 * key [agentId, tsMs, contentHash], value [metrics[], labels[], values[]].
 * The content hash makes a retried report overwrite itself instead of duplicating.
 */

type StoredRecord = [metrics: string[], labels: (Labels | null)[], values: number[]];
type RecordKey = [agentId: string, tsMs: number, hash: number];

/** One stored sample as read back. */
export interface StoredPoint { metric: string; labels: Labels; value: number }

/** Every point of one series in a time range, oldest first. */
export interface SeriesPoints {
  metric: string;
  labels: Labels;
  points: [tsMs: number, value: number][];
}

const EMPTY_LABELS: Labels = Object.freeze({});

export class MetricStore {
  constructor(private readonly partitions: PartitionSet) {}

  /** Stores one agent's points; resolves once they are flushed to disk. */
  async write(agentId: string, points: readonly MetricPoint[]): Promise<void> {
    const byTs = new Map<number, MetricPoint[]>();
    for (const p of points) {
      const group = byTs.get(p.timestampMs);
      if (group) group.push(p); else byTs.set(p.timestampMs, [p]);
    }
    const touched = new Set<RootDatabase>();
    const writes: Promise<boolean>[] = [];
    for (const [ts, group] of byTs) {
      const record: StoredRecord = [
        group.map((p) => p.metric),
        group.map((p) => (Object.keys(p.labels).length ? p.labels : null)),
        group.map((p) => p.value),
      ];
      const db = this.partitions.get(dayOf(ts), true)!;
      const key: RecordKey = [agentId, ts, contentHash(record)];
      writes.push(db.put(key, record));
      touched.add(db);
    }
    await Promise.all(writes);
    await Promise.all([...touched].map((db) => db.flushed));
  }

  /** Every record of an agent with fromMs ≤ ts ≤ toMs, oldest first, across partitions. */
  *scan(agentId: string, fromMs: number, toMs: number): Generator<{ tsMs: number; points: StoredPoint[] }> {
    // Only partitions that exist: a range may span years (e.g. a catch-up from long ago).
    for (const day of this.partitions.daysBetween(fromMs, toMs)) {
      const db = this.partitions.get(day, false);
      if (!db) continue;
      const range = db.getRange({ start: [agentId, fromMs], end: [agentId, toMs, Infinity] });
      for (const { key, value } of range) {
        const [m, l, v] = value as StoredRecord;
        const points: StoredPoint[] = new Array(m.length);
        for (let i = 0; i < m.length; i++) points[i] = { metric: m[i]!, labels: l[i] ?? EMPTY_LABELS, value: v[i]! };
        yield { tsMs: (key as RecordKey)[1], points };
      }
    }
  }

  /** The series of one metric, grouped by label set; `labelFilter` keeps series whose labels include it. */
  query(agentId: string, metric: string, fromMs: number, toMs: number, labelFilter: Labels = EMPTY_LABELS): SeriesPoints[] {
    const bySeries = new Map<string, SeriesPoints>();
    const filterKeys = Object.keys(labelFilter);
    for (const { tsMs, points } of this.scan(agentId, fromMs, toMs)) {
      for (const p of points) {
        if (p.metric !== metric) continue;
        if (filterKeys.some((k) => p.labels[k] !== labelFilter[k])) continue;
        const id = seriesKey(metric, p.labels);
        let series = bySeries.get(id);
        if (!series) bySeries.set(id, (series = { metric, labels: p.labels, points: [] }));
        series.points.push([tsMs, p.value]);
      }
    }
    return [...bySeries.values()];
  }
}

function contentHash(record: StoredRecord): number {
  return createHash("sha1").update(JSON.stringify(record)).digest().readUInt32BE(0);
}
