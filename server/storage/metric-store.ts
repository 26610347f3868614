import type { RootDatabase } from "lmdb";
import { seriesKey, type Labels, type MetricPoint } from "../../common/metrics.ts";
import { LastShapes, toSeriesText, type SampleBlock } from "../../common/series-text.ts";
import type { ChunkColumns } from "./chunks.ts";
import { InstantSplitter } from "./instant-split.ts";
import { hasReportKey, writeOnce, type ReportKey } from "./report-keys.ts";
import { dayOf, dayStartMs, DAY_MS } from "./days.ts";
import { LATE_AFTER_MS, type PartitionSet } from "./partitions.ts";
import { picksByShape, readRawPicks } from "./raw-read.ts";
import { distinctAgents, rawRecords, rawWrites, toPoints, toRawRecord, type LegacyValue, type RawValue, type RawWrite, type StoredPoint } from "./raw-records.ts";
import { shapeIdOf, shapesOf } from "./raw-shapes.ts";
import { countBefore } from "./sorted-search.ts";
import { readGrid } from "./grid-read.ts";
import type { Grid, GridSeries } from "../query/grid-series.ts";
import type { BucketColumns } from "../query/bucket-grid.ts";
import { Buckets, type Bucket } from "../query/aggregate.ts";
import { ColumnBuilder, toPairs, type SeriesColumns } from "../query/point-columns.ts";
import type { RollupBlock } from "./codec/chunk.ts";
import { AgentBuilder, ROLLUPS, writeAgent } from "./sealed-day.ts";

export type { StoredPoint } from "./raw-records.ts";

/*
 * A day's data is in up to three places (partitions.ts): raw generations (records as
 * reports wrote them, raw-records.ts), hour chunks the compactor made of closed generations
 * (chunks.ts), and the sealed day (sealed-day.ts). Reads merge them, one value per series
 * and instant; writes go to the current raw generation.
 */

/** Every point of one series in a time range, oldest first. */
export interface SeriesPoints {
  metric: string;
  labels: Labels;
  points: [tsMs: number, value: number][];
}

const EMPTY_LABELS: Labels = Object.freeze({});

export class MetricStore {
  /** Each agent's last report shape and its id: an agent repeats its shape report after report. */
  private readonly shapeIds = new LastShapes<string>();
  /** Reports of several instants (report_interval_secs): how each splits, per agent. */
  private readonly splitter = new InstantSplitter();

  constructor(private readonly partitions: PartitionSet, private readonly now: () => number = Date.now) {}

  /** Stores one agent's points; resolves once they are flushed to disk. */
  write(agentId: string, points: readonly MetricPoint[]): Promise<boolean> {
    const block: SampleBlock = { series: toSeriesText(points.map((p) => [p.metric, p.labels])), timestamps: new Float64Array(points.length), values: new Float64Array(points.length) };
    points.forEach((p, i) => { block.timestamps[i] = p.timestampMs; block.values[i] = p.value; });
    return this.writeBlock(agentId, block);
  }

  /**
   * Stores one agent's report, as columns; resolves once it is flushed to disk. With `key`
   * (a tsmon agent's stream and sequence), each day takes the report's records at most once
   * (report-keys.ts): a resend is skipped. Resolves false when every day had the key already
   * (a duplicate), true otherwise.
   */
  async writeBlock(agentId: string, block: SampleBlock, key?: ReportKey): Promise<boolean> {
    const byDay = new Map<string, RawWrite[]>();
    const shapeId = (text: string) => this.shapeIds.get(agentId, text) ?? this.shapeIds.set(agentId, text, shapeIdOf(text));
    for (const record of rawWrites(agentId, block, shapeId, this.splitter)) {
      const day = dayOf(record.key[1]);
      const records = byDay.get(day);
      if (records) records.push(record); else byDay.set(day, [record]);
    }
    const stored = await Promise.all([...byDay].map(([day, records]) => this.writeDay(day, records, agentId, key)));
    return stored.length === 0 || stored.includes(true);
  }

  /**
   * Writes one day's records to its current raw generation, following it when a compactor
   * closes it under the write; false when the report's key was stored already (in the
   * generation, or carried over to the day's chunks by a compaction).
   */
  private async writeDay(day: string, records: readonly RawWrite[], agentId: string, key: ReportKey | undefined): Promise<boolean> {
    if (key && this.hasReportKey(day, agentId, key)) return false;
    let target = this.partitions.writeTarget(day);
    for (let attempt = 0; attempt < 16; attempt++) {
      const { db } = target;
      const shapes = shapesOf(db);
      const put = () => {
        for (const record of records) {
          void shapes.ensure(record.value[0], record.text);
          void db.put(record.key, record.value);
        }
      };
      // The key's own condition nests inside the generation's: both hold, or nothing is written.
      let fresh: Promise<boolean> | undefined;
      const written = await this.partitions.writeUnlessClosed(db, () => {
        if (key) fresh = writeOnce(db, agentId, key, this.now(), put); else put();
      });
      if (written) {
        await db.flushed;
        const stored = fresh ? await fresh : true;
        // A file this write made may be one a compactor had just compacted and deleted (this
        // thread chose its generation before): when the day has moved on, the records go to
        // the current generation too. A point stored twice is read once.
        if (!target.created || this.partitions.generation(day, true) === target.generation) return stored;
      } else {
        this.partitions.releaseClosed(day, target.generation);
      }
      target = this.partitions.writeTarget(day, true);
    }
    throw new Error(`a report for ${day} could not be stored: its raw generation kept closing under the write; the agent will retry`);
  }

  /**
   * Whether a report's key was stored in a generation the current one has replaced, or in
   * the chunks a compaction carried it to. The generations are listed first and the chunks
   * read after (view): a generation deleted meanwhile had its keys in the chunks before.
   */
  private hasReportKey(day: string, agentId: string, key: ReportKey): boolean {
    const view = this.partitions.view(day);
    return view.raws.some((db) => hasReportKey(db, agentId, key)) || !!view.chunks?.hasReportKey(agentId, key);
  }

  /**
   * The newest report of the agent stored before `tsMs` in that day's raw partition (0: none,
   * or a day past taking recent writes). Another PM2 instance may have stored it a moment
   * ago: the registry's last_seen tells of it only after its next flush. Reads the thread's
   * snapshot: renewReads() first.
   */
  newestBefore(agentId: string, tsMs: number): number {
    const day = dayOf(tsMs);
    if (this.partitions.isLate(day, this.now())) return 0;
    const view = this.partitions.view(day);
    let newest = view.chunks?.newestBefore(agentId, tsMs) ?? 0;
    for (const db of view.raws) {
      for (const key of db.getKeys({ start: [agentId, tsMs], end: [agentId, -Infinity], reverse: true, limit: 1 })) {
        if (Array.isArray(key) && key[0] === agentId) newest = Math.max(newest, key[1] as number);
      }
    }
    return newest;
  }

  /** Runs a read of many agents on one listing of the partition files (see PartitionSet.consistentRead). */
  consistentRead<T>(read: () => T): T {
    return this.partitions.consistentRead(read);
  }

  /** Reads from here on see what other threads and processes have committed. */
  renewReads(): void {
    this.partitions.renewReads();
  }

  /** Every record of an agent with fromMs ≤ ts ≤ toMs, across partitions (a sealed day's before its late reports). */
  *scan(agentId: string, fromMs: number, toMs: number): Generator<{ tsMs: number; points: StoredPoint[] }> {
    // Only partitions that exist: a range may span years (e.g. a catch-up from long ago).
    for (const day of this.partitions.files.daysBetween(fromMs, toMs)) {
      const view = this.partitions.view(day);
      const sealed = view.sealed?.read(agentId);
      const chunks = [...(view.chunks?.read(agentId, fromMs, toMs) ?? [])];
      const sources = (sealed ? 1 : 0) + chunks.length + view.raws.length;
      // One source reads as it is; several may hold the same instant (a retry stored after its
      // hour was compacted, a compaction cut short): merged, one value per series and instant.
      const builder = sources > 1 ? new AgentBuilder() : undefined;
      const rows = [
        ...(sealed ? [columnReports(sealed, fromMs, toMs)] : []),
        ...chunks.map((c) => columnReports(c, fromMs, toMs)),
        ...view.raws.map((db) => rawReports(db, agentId, fromMs, toMs)),
      ];
      for (const source of rows) {
        for (const row of source) {
          if (builder) builder.add(row.tsMs, row.points);
          else yield row;
        }
      }
      if (builder) yield* builder.rows();
    }
  }

  /** The series of one metric as [ts, value] pairs, grouped by label set; `labelFilter` keeps series whose labels include it. */
  query(agentId: string, metric: string, fromMs: number, toMs: number, labelFilter: Labels = EMPTY_LABELS): SeriesPoints[] {
    return this.queryColumns(agentId, metric, fromMs, toMs, labelFilter).map((s) => ({ metric: s.metric, labels: s.labels, points: toPairs(s) }));
  }

  /** The same as columns, in time order with one value per instant (stats and steps read these, not pairs). */
  queryColumns(agentId: string, metric: string, fromMs: number, toMs: number, labelFilter: Labels = EMPTY_LABELS): SeriesColumns[] {
    return this.columnsOf(agentId, [metric], fromMs, toMs, labelFilter);
  }

  /**
   * Several metrics of one agent as columns, in one pass over its records: a raw record holds
   * every series of a report, so the overview's four metrics cost one read, not four.
   */
  columnsOf(agentId: string, metrics: readonly string[], fromMs: number, toMs: number, labelFilter: Labels = EMPTY_LABELS): SeriesColumns[] {
    return this.columnsOfDays(agentId, metrics, this.partitions.files.daysBetween(fromMs, toMs), fromMs, toMs, labelFilter);
  }

  /** `columnsOf` over days already listed (listing the partition files costs more than reading an agent's quarter hour). */
  private columnsOfDays(agentId: string, metrics: readonly string[], days: readonly string[], fromMs: number, toMs: number, labelFilter: Labels): SeriesColumns[] {
    const wantedMetrics = new Set(metrics);
    const bySeries = new Map<string, { metric: string; labels: Labels; columns: ColumnBuilder }>();
    const filterKeys = Object.keys(labelFilter);
    const keep = (labels: Labels) => !filterKeys.some((k) => labels[k] !== labelFilter[k]);
    const seriesFor = (metric: string, labels: Labels) => {
      const id = seriesKey(metric, labels);
      let series = bySeries.get(id);
      if (!series) bySeries.set(id, (series = { metric, labels, columns: new ColumnBuilder() }));
      return series.columns;
    };
    for (const day of days) {
      // A seal that lands while the day is read would hide or double its data: read again.
      for (let attempt = 0; ; attempt++) {
        const view = this.partitions.view(day);
        const before = new Map([...bySeries].map(([k, s]) => [k, s.columns.length]));
        const pushColumns = (metric: string, columns: ChunkColumns | undefined) => {
          for (const s of columns?.series ?? []) {
            if (!keep(s.labels)) continue;
            // Sealed and chunk timestamps are sorted: only the slice in range is visited and reserved.
            const out = seriesFor(metric, s.labels), ts = columns!.timestamps, values = s.values;
            const first = countBefore(ts, fromMs, false), end = countBefore(ts, toMs, true);
            out.reserve(end - first);
            for (let i = first; i < end; i++) {
              const v = values[i];
              if (v !== undefined) out.push(ts[i]!, v);
            }
          }
        };
        for (const metric of wantedMetrics) {
          pushColumns(metric, view.sealed?.read(agentId, metric, labelFilter));
          for (const chunk of view.chunks?.read(agentId, fromMs, toMs, metric, labelFilter) ?? []) pushColumns(metric, chunk);
        }
        const picksOf = picksByShape((m, l) => (wantedMetrics.has(m) && keep(l) ? seriesFor(m, l) : undefined));
        for (const db of view.raws) {
          const shapes = shapesOf(db);
          readRawPicks(db, agentId, fromMs, toMs, (id) => shapes.refs(id), picksOf, (series, tsMs, value) => series.push(tsMs, value), (key) => {
            const r = toRawRecord(shapes, key[1], db.get(key) as RawValue | LegacyValue);
            for (const [i, series] of picksOf(r.refs)) series.push(r.tsMs, r.values[i]!);
          });
        }
        if (this.partitions.isCurrent(day, view) || attempt === 2) break;
        for (const [k, s] of bySeries) s.columns.truncate(before.get(k) ?? 0);
      }
    }
    // Late reports of a sealed day come after it: finish() restores time order, one value per
    // instant (a report retried after its hour was compacted is stored again until the next compaction).
    // A series with no point in range (read from a sealed day, or by an attempt read again) is not one.
    return [...bySeries.values()].filter(({ columns }) => columns.length > 0).map(({ metric, labels, columns }) => ({ metric, labels, ...columns.finish() }));
  }

  /**
   * The series of one metric in buckets of `stepMs` (epoch-aligned): days wholly inside the
   * range that are sealed read their 1 min or 1 h rollups when the step is a whole number of
   * them, so a week at step=300 reads 10,080 buckets, not 60,480 points; the rest is read as
   * points. Days past retention_days whose rollups are still kept (rollup_retention_days)
   * answer from those alone. Series come sorted by their key.
   */
  buckets(agentId: string, metric: string, fromMs: number, toMs: number, stepMs: number, labelFilter: Labels = EMPTY_LABELS): { labels: Labels; buckets: Bucket[] }[] {
    return this.bucketsOf(agentId, [metric], fromMs, toMs, stepMs, labelFilter).map((s) => ({ labels: s.labels, buckets: s.buckets }));
  }

  /** `buckets` of several metrics of one agent, its records read once; series sorted by their key. */
  bucketsOf(agentId: string, metrics: readonly string[], fromMs: number, toMs: number, stepMs: number, labelFilter: Labels = EMPTY_LABELS): { metric: string; labels: Labels; buckets: Bucket[] }[] {
    const resolution = [...ROLLUPS].reverse().find(([, ms]) => stepMs % ms === 0)?.[1];
    const filterKeys = Object.keys(labelFilter);
    const bySeries = new Map<string, { metric: string; labels: Labels; buckets: Buckets }>();
    const seriesFor = (metric: string, labels: Labels) => {
      const id = seriesKey(metric, labels);
      let s = bySeries.get(id);
      if (!s) bySeries.set(id, (s = { metric, labels, buckets: new Buckets(stepMs) }));
      return s.buckets;
    };
    const asPoints: [day: string, from: number, to: number][] = [];
    const merge = (metric: string, rollups: RollupBlock[], inRange: (start: number) => boolean) => {
      for (const r of rollups) {
        if (filterKeys.some((k) => r.labels[k] !== labelFilter[k])) continue;
        const b = seriesFor(metric, r.labels);
        for (let i = 0; i < r.starts.length; i++) if (inRange(r.starts[i]!)) b.merge(r.starts[i]!, r.min[i]!, r.max[i]!, r.sum[i]!, r.count[i]!);
      }
    };
    const withData = new Set(this.partitions.files.daysBetween(fromMs, toMs));
    // Days past retention_days whose rollups remain: only buckets wholly inside the range count.
    if (resolution) {
      for (const day of this.partitions.files.rollupDays()) {
        if (withData.has(day) || dayStartMs(day) + DAY_MS <= fromMs || dayStartMs(day) > toMs) continue;
        for (const metric of metrics) {
          const rollups = this.partitions.rollups(day)?.rollups(agentId, metric, labelFilter, resolution);
          if (rollups) merge(metric, rollups, (start) => start >= fromMs && start + resolution - 1 <= toMs);
        }
      }
    }
    for (const day of withData) {
      const start = dayStartMs(day), end = start + DAY_MS - 1;
      if (resolution && start >= fromMs && end <= toMs) {
        const view = this.partitions.view(day);
        const rollupDay = view.sealed && !view.chunks && view.raws.length === 0 ? this.partitions.rollups(day) : undefined;
        const rollups = rollupDay ? metrics.map((m) => [m, rollupDay.rollups(agentId, m, labelFilter, resolution)] as const) : [];
        // A metric without rollups that day is read from points: then so is the whole day.
        if (rollupDay && rollups.every(([, blocks]) => blocks) && this.partitions.isCurrent(day, view)) {
          for (const [metric, blocks] of rollups) merge(metric, blocks!, () => true);
          continue;
        }
      }
      asPoints.push([day, Math.max(fromMs, start), Math.min(toMs, end)]);
    }
    for (const [day, from, to] of asPoints) {
      for (const s of this.columnsOfDays(agentId, metrics, [day], from, to, labelFilter)) addRuns(seriesFor(s.metric, s.labels), s.timestamps, s.values, stepMs);
    }
    return [...bySeries].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, s]) => ({ metric: s.metric, labels: s.labels, buckets: s.buckets.result() }));
  }

  /**
   * `bucketsOf` onto a shared grid for the usual fleet read (chunks and raw tail, in time
   * order); undefined when the agent's data needs the general read (grid-read.ts).
   */
  gridOf(agentId: string, metrics: readonly string[], fromMs: number, toMs: number, grid: Grid, labelFilter: Labels = EMPTY_LABELS, fields?: readonly (keyof BucketColumns)[]): GridSeries[] | undefined {
    return readGrid(this.partitions, agentId, metrics, fromMs, toMs, grid, labelFilter, fields);
  }

  /**
   * Seals a day: its raw generations (and any earlier seal) become one compressed, columnar
   * version; late reports arriving meanwhile land in a new generation. Returns the points
   * sealed and the sealed version's bytes on disk.
   */
  async seal(day: string): Promise<{ points: number; bytes: number; rollupBytes: number }> {
    // Days still taking reports stay in hour chunks: sealing rewrites the whole day.
    if (!this.partitions.isLate(day, this.now())) throw new Error(`day ${day} still takes reports; seal it once it is ${LATE_AFTER_MS / 3_600_000} h past its end`);
    // Later writes go to a new generation; the closed one is the last to seal.
    const upTo = await this.partitions.rotate(day);
    const { sealed: previous, chunks } = this.partitions.view(day);
    const raws = this.partitions.rawUpTo(day, upTo);
    // Agent by agent (raw keys sort by agent), so memory holds one agent-day at a time.
    const agents = new Set([...(previous?.agents() ?? []), ...(chunks?.agents() ?? [])]);
    for (const db of raws) for (const agentId of distinctAgents(db)) agents.add(agentId);
    const from = dayStartMs(day), to = from + DAY_MS - 1;
    let points = 0;
    const rollups = this.partitions.rollupsForWriting(day);
    await this.partitions.replaceSealed(day, upTo, async (env) => {
      for (const agentId of [...agents].sort()) {
        const builder = new AgentBuilder();
        const earlier = previous?.read(agentId);
        if (earlier) builder.addSealed(earlier.timestamps, earlier.series);
        for (const chunk of chunks?.read(agentId, from, to) ?? []) builder.addSealed(chunk.timestamps, chunk.series);
        for (const db of raws) for (const r of rawRecords(db, agentId, from, to)) builder.add(r.tsMs, toPoints(r));
        points += builder.points;
        if (builder.points) await writeAgent(env, rollups, agentId, builder.columns());
      }
      await rollups.flushed; // durable before the version they describe appears
    });
    return { points, bytes: this.partitions.files.sealedBytes(day), rollupBytes: this.partitions.files.rollupBytes(day) };
  }
}

/**
 * Adds time-ordered points to buckets one run of a bucket at a time: one map update per
 * bucket, not per point (a fleet read buckets a million points). The run's sum is built
 * point by point in time order, as adding the points one by one would.
 */
function addRuns(buckets: Buckets, ts: Float64Array, values: Float64Array, stepMs: number): void {
  for (let i = 0; i < ts.length;) {
    const start = Math.floor(ts[i]! / stepMs) * stepMs, end = start + stepMs;
    let min = values[i]!, max = min, sum = min, count = 1;
    for (i++; i < ts.length && ts[i]! < end; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      count++;
    }
    buckets.merge(start, min, max, sum, count);
  }
}

/** The rows of sealed or chunk columns with fromMs ≤ ts ≤ toMs. */
function* columnReports({ timestamps, series }: ChunkColumns, fromMs: number, toMs: number): Generator<{ tsMs: number; points: StoredPoint[] }> {
  // Sorted timestamps: only the reports in range are gathered.
  const first = countBefore(timestamps, fromMs, false), end = countBefore(timestamps, toMs, true);
  const rows: StoredPoint[][] = Array.from({ length: end - first }, () => []);
  for (const s of series) {
    for (let i = first; i < end; i++) {
      const value = s.values[i];
      if (value !== undefined) rows[i - first]!.push({ metric: s.metric, labels: s.labels, value });
    }
  }
  for (let i = first; i < end; i++) yield { tsMs: timestamps[i]!, points: rows[i - first]! };
}

function* rawReports(db: RootDatabase, agentId: string, fromMs: number, toMs: number): Generator<{ tsMs: number; points: StoredPoint[] }> {
  for (const r of rawRecords(db, agentId, fromMs, toMs)) yield { tsMs: r.tsMs, points: toPoints(r) };
}
