import type { RootDatabase } from "lmdb";
import type { Labels } from "../../common/metrics.ts";
import type { SeriesBlock } from "./codec/chunk.ts";
import { hasReportKey, type ReportKey } from "./report-keys.ts";
import { isAfterRecords } from "./root-keys.ts";
import { ColumnMerge } from "./column-merge.ts";
import type { RawRecord } from "./raw-records.ts";
import { encodeColumns, readColumns, visitChunk, type SeriesVisit } from "./sealed-day.ts";

/*
 * Compacted fresh data (`chunks/<day>[.a<N>].mdb`, the chunks written after sealed version
 * N of the day): one record per (agent, hour), key [agentId, hourStartMs], in the sealed
 * record layout's bare version (sealed-day.ts) — timestamps once per agent-hour, each series
 * its own block of encoded columns, named by a front-coded index key. The compactor
 * (compaction.ts) folds closed raw generations into them, rewriting an hour's record when
 * more of its data arrives; sealing merges them into the day.
 */

export const CHUNK_MS = 3_600_000;

type ChunkKey = [agentId: string, hourStartMs: number];

export interface ChunkColumns { timestamps: Float64Array; series: SeriesBlock[] }

export class ChunkDay {
  constructor(readonly env: RootDatabase) {}

  /** The agent's hour chunks that overlap [fromMs, toMs], oldest first (with `metric`: only its series). */
  *read(agentId: string, fromMs: number, toMs: number, metric?: string, labelFilter?: Labels): Generator<ChunkColumns> {
    const first = Math.floor(fromMs / CHUNK_MS) * CHUNK_MS;
    for (const key of this.env.getKeys({ start: [agentId, first], end: [agentId, toMs + 1] })) {
      const columns = readColumns(this.env, key as ChunkKey, metric, labelFilter);
      if (columns) yield columns;
    }
  }

  /**
   * The agent's hour chunks that overlap [fromMs, toMs], oldest first, series by series (see
   * visitChunk: values decoded only in range, into a buffer reused for the next series).
   */
  visit(agentId: string, fromMs: number, toMs: number, metrics: readonly string[], labelFilter: Labels,
    range: (timestamps: Float64Array, first: number, end: number) => void, visit: SeriesVisit): void {
    const first = Math.floor(fromMs / CHUNK_MS) * CHUNK_MS;
    for (const key of this.env.getKeys({ start: [agentId, first], end: [agentId, toMs + 1] })) {
      visitChunk(this.env, key as ChunkKey, metrics, labelFilter, fromMs, toMs, range, visit);
    }
  }

  /** The agents with chunks, each once. */
  agents(): string[] {
    const agents: string[] = [];
    let start: unknown = undefined;
    for (;;) {
      const [first] = this.env.getKeys({ start: start as never, limit: 1 }) as Iterable<ChunkKey | string>;
      if (first === undefined || isAfterRecords(first)) return agents;
      // The root keyspace of older files also names the `report-keys` database: step over it.
      if (typeof first === "string") {
        start = [first, -Infinity];
        continue;
      }
      agents.push(first[0]);
      start = [first[0], Infinity];
    }
  }

  /** Whether a compaction carried this report's key over from its raw generation. */
  hasReportKey(agentId: string, key: ReportKey): boolean {
    return hasReportKey(this.env, agentId, key);
  }

  /** The newest instant before `tsMs` the agent has in its chunks, or 0. */
  newestBefore(agentId: string, tsMs: number): number {
    for (const key of this.env.getKeys({ start: [agentId, tsMs], end: [agentId, -Infinity], reverse: true })) {
      const ts = readColumns(this.env, key as ChunkKey, "\u0000")?.timestamps ?? new Float64Array(0);
      for (let i = ts.length - 1; i >= 0; i--) if (ts[i]! < tsMs) return ts[i]!;
    }
    return 0;
  }
}

/**
 * Adds raw records to the agent's chunk of the hour starting at `hourStartMs`: the stored chunk
 * and the records are merged (a record's value wins over a stored one at the same series and
 * instant) and written back. The write is not awaited here: the caller waits for the
 * environment's flush once.
 */
export function mergeIntoChunk(env: RootDatabase, agentId: string, hourStartMs: number, records: Iterable<RawRecord>): void {
  const merge = new ColumnMerge();
  const stored = readColumns(env, [agentId, hourStartMs]);
  if (stored) merge.addColumns(stored.timestamps, stored.series);
  for (const r of records) merge.addRecord(r.tsMs, r.refs, r.values);
  void env.put([agentId, hourStartMs], encodeColumns(merge.columns()));
}
