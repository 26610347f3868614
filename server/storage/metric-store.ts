import type { RootDatabase } from "lmdb";
import { seriesKey, type Labels, type MetricPoint } from "../../common/metrics.ts";
import { LastShapes, parseSeriesText, toSeriesText, type SampleBlock, type SeriesRef } from "../../common/series-text.ts";
import { contentHash } from "./content-hash.ts";
import { InstantSplitter } from "./instant-split.ts";
import { writeOnce, writeOnceSync, type ReportKey } from "./report-keys.ts";
import { dayOf, dayStartMs, DAY_MS } from "./days.ts";
import { LATE_AFTER_MS, type DayView, type PartitionSet } from "./partitions.ts";
import { readRawPicks } from "./raw-read.ts";
import { shapeIdOf, shapesOf, type ShapeBook } from "./raw-shapes.ts";
import { Buckets, type Bucket } from "../query/aggregate.ts";
import { ColumnBuilder, toPairs, type SeriesColumns } from "../query/point-columns.ts";
import type { RollupBlock } from "./codec/chunk.ts";
import { AgentBuilder, ROLLUPS, writeAgent } from "./sealed-day.ts";

/*
 * Raw layout: one record per (agent, timestamp) in the partition of that timestamp's UTC
 * day, key [agentId, tsMs, contentHash], value [shapeId, float64 values as bytes (the
 * platform's byte order)]; the shape, the record's series as one text, is stored once per partition
 * (raw-shapes.ts). The content hash makes a retried report overwrite itself instead of
 * duplicating. Sealing (`seal`) rewrites a past day into compressed columns; reads merge
 * both (see partitions.ts).
 */

type RawValue = [shapeId: string, values: Uint8Array];
/** Records written before shapes: [metrics, labels, values]; still read, never written. */
type LegacyValue = [metrics: string[], labels: (Labels | null)[], values: number[]];
type RecordKey = [agentId: string, tsMs: number, hash: number];

/** One raw record as read back: its series and their values at one instant. */
interface RawRecord { tsMs: number; refs: readonly SeriesRef[]; values: Float64Array }

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
   * (a tsmon agent's stream and sequence), each partition takes the report's records at most
   * once (report-keys.ts): a resend is skipped. Resolves false when every partition had
   * the key already (a duplicate), true otherwise.
   */
  async writeBlock(agentId: string, block: SampleBlock, key?: ReportKey): Promise<boolean> {
    const touched = new Set<RootDatabase>();
    const writes: Promise<unknown>[] = [];
    const fresh: (Promise<boolean> | boolean)[] = [];
    const recent = new Map<RootDatabase, RawWrite[]>();
    const late = new Map<string, RawWrite[]>();
    const now = this.now();
    const shapeId = (text: string) => this.shapeIds.get(agentId, text) ?? this.shapeIds.set(agentId, text, shapeIdOf(text));
    for (const record of rawWrites(agentId, block, shapeId, this.splitter)) {
      const day = dayOf(record.key[1]);
      if (this.partitions.isLate(day, now)) pushTo(late, day, record);
      else pushTo(recent, this.partitions.recent(day), record);
    }
    for (const [db, records] of recent) {
      const put = () => {
        for (const record of records) {
          const shape = shapesOf(db).ensure(record.value[0], record.text);
          if (shape) writes.push(shape);
          writes.push(db.put(record.key, record.value));
        }
      };
      if (key) fresh.push(writeOnce(db, agentId, key, now, put)); else put();
      touched.add(db);
    }
    // Late reports: one durable transaction per day, under the generation lock.
    for (const [day, records] of late) {
      this.partitions.writeLate(day, (db) => db.transactionSync(() => {
        const put = () => {
          for (const record of records) {
            void shapesOf(db).ensure(record.value[0], record.text);
            void db.put(record.key, record.value);
          }
        };
        if (key) fresh.push(writeOnceSync(db, agentId, key, now, put)); else put();
      }));
    }
    await Promise.all(writes);
    const stored = await Promise.all(fresh);
    await Promise.all([...touched].map((db) => db.flushed));
    return stored.length === 0 || stored.includes(true);
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
    const db = this.partitions.recent(day);
    for (const key of db.getKeys({ start: [agentId, tsMs], end: [agentId, -Infinity], reverse: true, limit: 1 })) {
      if (Array.isArray(key) && key[0] === agentId) return key[1] as number;
    }
    return 0;
  }

  /** Reads from here on see what other threads and processes have committed. */
  renewReads(): void {
    this.partitions.renewReads();
  }

  /** Every record of an agent with fromMs ≤ ts ≤ toMs, across partitions (a sealed day's before its late reports). */
  *scan(agentId: string, fromMs: number, toMs: number): Generator<{ tsMs: number; points: StoredPoint[] }> {
    // Only partitions that exist: a range may span years (e.g. a catch-up from long ago).
    for (const day of this.partitions.daysBetween(fromMs, toMs)) {
      const view = this.partitions.view(day);
      if (view.sealed) yield* sealedReports(view, agentId, fromMs, toMs);
      for (const db of view.raws) for (const r of rawRecords(db, agentId, fromMs, toMs)) yield { tsMs: r.tsMs, points: toPoints(r) };
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
    return this.columnsOfDays(agentId, metrics, this.partitions.daysBetween(fromMs, toMs), fromMs, toMs, labelFilter);
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
        for (const metric of wantedMetrics) {
          const sealed = view.sealed?.read(agentId, metric, labelFilter);
          for (const s of sealed?.series ?? []) {
            if (!keep(s.labels)) continue;
            // A sealed day's timestamps are sorted: only the slice in range is visited and reserved.
            const out = seriesFor(metric, s.labels), ts = sealed!.timestamps, values = s.values;
            const first = countBefore(ts, fromMs, false), end = countBefore(ts, toMs, true);
            out.reserve(end - first);
            for (let i = first; i < end; i++) {
              const v = values[i];
              if (v !== undefined) out.push(ts[i]!, v);
            }
          }
        }
        // Which of a shape's series are asked for, found once per shape.
        const wanted = new Map<readonly SeriesRef[], [index: number, series: ColumnBuilder][]>();
        const picksOf = (refs: readonly SeriesRef[]) => {
          let picks = wanted.get(refs);
          if (!picks) wanted.set(refs, (picks = refs.flatMap(([m, l], i) => (wantedMetrics.has(m) && keep(l) ? [[i, seriesFor(m, l)] as [number, ColumnBuilder]] : []))));
          return picks;
        };
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
    // instant (a report retried after its day was sealed is stored again until the next seal).
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
    const withData = new Set(this.partitions.daysBetween(fromMs, toMs));
    // Days past retention_days whose rollups remain: only buckets wholly inside the range count.
    if (resolution) {
      for (const day of this.partitions.rollupDays()) {
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
        const rollupDay = view.sealed && view.raws.length === 0 ? this.partitions.rollups(day) : undefined;
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
   * Seals a day: its raw generations (and any earlier seal) become one compressed, columnar
   * version; late reports arriving meanwhile land in a new generation. Returns the points
   * sealed and the sealed version's bytes on disk.
   */
  async seal(day: string): Promise<{ points: number; bytes: number; rollupBytes: number }> {
    // Recent days take writes without the generation lock: they must not be sealed yet.
    if (!this.partitions.isLate(day, this.now())) throw new Error(`day ${day} still takes unlocked writes; seal it once it is ${LATE_AFTER_MS / 3_600_000} h past its end`);
    const upTo = this.partitions.beginSeal(day);
    const previous = this.partitions.view(day).sealed;
    const raws = this.partitions.rawUpTo(day, upTo);
    // Agent by agent (raw keys sort by agent), so memory holds one agent-day at a time.
    const agents = new Set(previous?.agents() ?? []);
    for (const db of raws) for (const agentId of distinctAgents(db)) agents.add(agentId);
    const from = dayStartMs(day), to = from + DAY_MS - 1;
    let points = 0;
    const rollups = this.partitions.rollupsForWriting(day);
    await this.partitions.replaceSealed(day, upTo, async (env) => {
      for (const agentId of [...agents].sort()) {
        const builder = new AgentBuilder();
        const earlier = previous?.read(agentId);
        if (earlier) builder.addSealed(earlier.timestamps, earlier.series);
        for (const db of raws) for (const r of rawRecords(db, agentId, from, to)) builder.add(r.tsMs, toPoints(r));
        points += builder.points;
        if (builder.points) await writeAgent(env, rollups, agentId, builder.columns());
      }
      await rollups.flushed; // durable before the version they describe appears
    });
    return { points, bytes: this.partitions.sealedBytes(day), rollupBytes: this.partitions.rollupBytes(day) };
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

/** The agents with records in a raw partition, skipping from one agent's keys to the next. */
function* distinctAgents(db: RootDatabase): Generator<string> {
  let start: unknown = undefined;
  for (;;) {
    const [first] = db.getKeys({ start: start as never, limit: 1 }) as Iterable<RecordKey | string>;
    if (first === undefined) return;
    // The root keyspace also names the `shapes` database (a string key): step over it, not
    // over the records of an agent that happens to have the same id.
    if (typeof first === "string") {
      start = [first, -Infinity];
      continue;
    }
    yield first[0];
    start = [first[0], Infinity];
  }
}

interface RawWrite { key: RecordKey; value: RawValue; text: string }

function pushTo<K>(groups: Map<K, RawWrite[]>, at: K, record: RawWrite): void {
  const records = groups.get(at);
  if (records) records.push(record); else groups.set(at, [record]);
}

/** A report's records: one per instant (an agent's report usually has one). */
function* rawWrites(agentId: string, block: SampleBlock, shapeId: (text: string) => string, splitter: InstantSplitter): Generator<RawWrite> {
  const { timestamps, values } = block;
  const rawWrite = (tsMs: number, text: string, group: Float64Array): RawWrite => {
    const id = shapeId(text);
    // The platform's byte order, little-endian wherever Node runs in practice.
    const bytes = new Uint8Array(group.buffer, group.byteOffset, group.byteLength);
    return { key: [agentId, tsMs, contentHash(id, group)], value: [id, bytes], text };
  };
  if (timestamps.every((ts) => ts === timestamps[0])) {
    if (timestamps.length) yield rawWrite(timestamps[0]!, block.series, values);
    return;
  }
  for (const part of splitter.split(agentId, block)) yield rawWrite(part.tsMs, part.text, part.values);
}

function* rawRecords(db: RootDatabase, agentId: string, fromMs: number, toMs: number): Generator<RawRecord> {
  const shapes = shapesOf(db);
  for (const { key, value } of db.getRange({ start: [agentId, fromMs], end: [agentId, toMs, Infinity] })) {
    yield toRawRecord(shapes, (key as RecordKey)[1], value as RawValue | LegacyValue);
  }
}

function toRawRecord(shapes: ShapeBook, tsMs: number, value: RawValue | LegacyValue): RawRecord {
  if (value.length === 3) {
    const [m, l, v] = value;
    return { tsMs, refs: m.map((metric, i) => [metric, l[i] ?? EMPTY_LABELS]), values: Float64Array.from(v) };
  }
  const [shapeId, bytes] = value;
  // Copied: the decoded bytes may sit unaligned in a buffer lmdb-js reuses.
  const values = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(values.buffer).set(bytes);
  return { tsMs, refs: shapes.refs(shapeId), values };
}

function* sealedReports(view: DayView, agentId: string, fromMs: number, toMs: number): Generator<{ tsMs: number; points: StoredPoint[] }> {
  const sealed = view.sealed!.read(agentId);
  if (!sealed) return;
  // Sorted timestamps: only the reports in range are gathered.
  const { timestamps } = sealed;
  const first = countBefore(timestamps, fromMs, false), end = countBefore(timestamps, toMs, true);
  const rows: StoredPoint[][] = Array.from({ length: end - first }, () => []);
  for (const s of sealed.series) {
    for (let i = first; i < end; i++) {
      const value = s.values[i];
      if (value !== undefined) rows[i - first]!.push({ metric: s.metric, labels: s.labels, value });
    }
  }
  for (let i = first; i < end; i++) yield { tsMs: timestamps[i]!, points: rows[i - first]! };
}

function toPoints({ refs, values }: RawRecord): StoredPoint[] {
  const points: StoredPoint[] = new Array(refs.length);
  for (let i = 0; i < refs.length; i++) points[i] = { metric: refs[i]![0], labels: refs[i]![1], value: values[i]! };
  return points;
}

/** How many of the sorted `ts` come before `t` (with `orAt`, also those equal to it). */
function countBefore(ts: ArrayLike<number>, t: number, orAt: boolean): number {
  let lo = 0, hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t || (orAt && ts[mid] === t)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
