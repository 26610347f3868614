import { seriesKey, type Labels } from "../../common/metrics.ts";
import type { BucketColumns } from "../query/bucket-grid.ts";
import { GridSeries, type Grid } from "../query/grid-series.ts";
import { DAY_MS, dayStartMs } from "./days.ts";
import type { PartitionSet } from "./partitions.ts";
import { picksByShape, readRawPicks } from "./raw-read.ts";
import { shapesOf } from "./raw-shapes.ts";
import { ROLLUPS } from "./sealed-day.ts";

/*
 * The fleet read's quick path: one agent's series of a few metrics, from its hour chunks and
 * raw tail straight onto a bucket grid (GridSeries). It covers what fleet pages ask for — the
 * last minutes or hours, compacted and fresh — and gives up (undefined) on anything that
 * needs MetricStore.bucketsOf's general merge: a sealed day, a point not after the one
 * before it (a late or retried report, a compaction cut short), a raw record of the earlier
 * layout, a day compacted while it was read, a day only rollups remain of. The caller then
 * reads that agent the general way, so both give the same buckets.
 */

/** The series of `metrics` of `agentId` with a point in [fromMs, toMs], sorted by key; undefined: read it the general way. */
export function readGrid(partitions: PartitionSet, agentId: string, metrics: readonly string[], fromMs: number, toMs: number, grid: Grid, labelFilter: Labels, fields?: readonly (keyof BucketColumns)[]): GridSeries[] | undefined {
  const bySeries = new Map<string, GridSeries>();
  const seriesFor = (metric: string, labels: Labels) => {
    const id = seriesKey(metric, labels);
    let series = bySeries.get(id);
    if (!series) bySeries.set(id, (series = new GridSeries(metric, labels, grid, fields)));
    return series;
  };
  const wantedMetrics = new Set(metrics);
  const filterKeys = Object.keys(labelFilter);
  const keep = (labels: Labels) => !filterKeys.some((k) => labels[k] !== labelFilter[k]);
  const days = partitions.files.daysBetween(fromMs, toMs);
  // Days past retention_days whose rollups remain answer steps of whole rollups there.
  if (ROLLUPS.some(([, ms]) => grid.stepMs % ms === 0)) {
    const withData = new Set(days);
    if (partitions.files.rollupDays().some((d) => !withData.has(d) && dayStartMs(d) + DAY_MS > fromMs && dayStartMs(d) <= toMs)) return undefined;
  }
  for (const day of days) {
    const view = partitions.view(day);
    if (view.sealed) return undefined;
    const from = Math.max(fromMs, dayStartMs(day)), to = Math.min(toMs, dayStartMs(day) + DAY_MS - 1);
    let ordered = true;
    let ts: Float64Array = new Float64Array(0), first = 0, end = 0;
    view.chunks?.visit(agentId, from, to, metrics, labelFilter, (timestamps, f, e) => { ts = timestamps; first = f; end = e; }, (metric, labels, values) => {
      const series = seriesFor(metric, labels);
      for (let i = first; i < end; i++) {
        const v = values[i];
        if (v !== undefined && !series.push(ts[i]!, v)) ordered = false;
      }
    });
    if (!ordered) return undefined;
    const picksOf = picksByShape((m, l) => (wantedMetrics.has(m) && keep(l) ? seriesFor(m, l) : undefined));
    for (const db of view.raws) {
      const shapes = shapesOf(db);
      readRawPicks(db, agentId, from, to, (id) => shapes.refs(id), picksOf, (series, tsMs, value) => { if (!series.push(tsMs, value)) ordered = false; }, () => { ordered = false; });
      if (!ordered) return undefined;
    }
    if (!partitions.isCurrent(day, view)) return undefined;
    for (const series of bySeries.values()) series.endDay();
  }
  return [...bySeries].filter(([, s]) => !s.empty).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, s]) => s);
}
