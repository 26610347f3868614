import { seriesKey, type Labels } from "../../common/metrics.ts";
import type { SeriesRef } from "../../common/series-text.ts";
import type { SeriesBlock } from "./codec/chunk.ts";
import type { AgentColumns } from "./sealed-day.ts";

/*
 * Merges an agent-hour's stored columns with raw records into new columns, column by column:
 * no object per point and one series lookup per record shape, not per point (the compactor
 * merges the hour being written every pass; AgentBuilder, a map of rows, costs several
 * times more). Where two sources hold the same series and instant, the one added last wins.
 */

interface SeriesColumn { metric: string; labels: Labels; byTs: Map<number, number> }

/** Series keys of a record shape, computed once per shape (records of a report share its refs). */
const keysOfShape = new WeakMap<readonly SeriesRef[], string[]>();

export class ColumnMerge {
  private readonly series = new Map<string, SeriesColumn>();
  private readonly instants = new Set<number>();
  /** Points taken in (a point given twice counts twice). */
  points = 0;

  /** Stored columns: timestamps and series with values aligned to them (undefined: absent). */
  addColumns(timestamps: ArrayLike<number>, series: Iterable<SeriesBlock>): void {
    for (let i = 0; i < timestamps.length; i++) this.instants.add(timestamps[i]!);
    for (const s of series) {
      const column = this.column(seriesKey(s.metric, s.labels), s.metric, s.labels);
      for (let i = 0; i < s.values.length; i++) {
        const v = s.values[i];
        if (v !== undefined) {
          column.byTs.set(timestamps[i]!, v);
          this.points++;
        }
      }
    }
  }

  /** One raw record: its series (shared by every record of the same shape) and values at `tsMs`. */
  addRecord(tsMs: number, refs: readonly SeriesRef[], values: ArrayLike<number>): void {
    let keys = keysOfShape.get(refs);
    if (!keys) keysOfShape.set(refs, (keys = refs.map(([metric, labels]) => seriesKey(metric, labels))));
    this.instants.add(tsMs);
    for (let i = 0; i < refs.length; i++) this.column(keys[i]!, refs[i]![0], refs[i]![1]).byTs.set(tsMs, values[i]!);
    this.points += refs.length;
  }

  columns(): AgentColumns {
    const timestamps = [...this.instants].sort((a, b) => a - b);
    const series: SeriesBlock[] = [];
    for (const { metric, labels, byTs } of this.series.values()) {
      const values = new Array<number | undefined>(timestamps.length);
      for (let i = 0; i < timestamps.length; i++) values[i] = byTs.get(timestamps[i]!);
      series.push({ metric, labels, values });
    }
    return { timestamps, series };
  }

  private column(key: string, metric: string, labels: Labels): SeriesColumn {
    let column = this.series.get(key);
    if (!column) this.series.set(key, (column = { metric, labels, byTs: new Map() }));
    return column;
  }
}
