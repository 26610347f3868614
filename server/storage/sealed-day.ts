import type { RootDatabase } from "lmdb";
import { seriesKey, type Labels } from "../../common/metrics.ts";
import { decodeSeriesBlock, decodeTimestampBlock, encodeSeriesBlock, encodeTimestampBlock, type SeriesBlock } from "./codec/chunk.ts";

/*
 * A sealed day (`sealed/<day>.v<N>.mdb`, holding raw generations 0..N): one record per
 * agent, key = agent id, so an agent-day fills whole LMDB pages rather than leaving one
 * half-empty page per series. The record is an index and the blocks of codec/chunk.ts, each
 * compressed on its own, so reading one series decompresses only that block:
 *
 *   u32 series count · per series: u16 key length · series key (UTF-8) · u32 block length
 *   · timestamp block · series blocks in index order
 */

export class SealedDay {
  constructor(readonly env: RootDatabase, readonly through: number) {}

  agents(): string[] {
    return [...this.env.getKeys({})] as string[];
  }

  /**
   * The agent's report timestamps and its series (with `metric`: only that metric's),
   * values aligned to them. Reads the record in place (no copy of the agent-day) and
   * decompresses only the blocks asked for.
   */
  read(agentId: string, metric?: string, labelFilter: Labels = {}): { timestamps: number[]; series: SeriesBlock[] } | undefined {
    const pairs = Object.entries(labelFilter).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    // Valid only until the next read on this thread: everything is decoded before returning.
    const bytes = this.env.getBinaryFast(agentId);
    if (!bytes) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = view.getUint32(0);
    let at = 4;
    const wanted: { skip: number; length: number }[] = [];
    const decoder = new TextDecoder();
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const keyLength = view.getUint16(at);
      const length = view.getUint32(at + 2 + keyLength);
      if (metric === undefined || matches(decoder.decode(bytes.subarray(at + 2, at + 2 + keyLength)), metric, pairs)) wanted.push({ skip: offset, length });
      offset += length;
      at += 6 + keyLength;
    }
    const tsLength = view.getUint32(at);
    const timestamps = decodeTimestampBlock(bytes.subarray(at + 4, at + 4 + tsLength));
    const blocksAt = at + 4 + tsLength;
    const series = wanted.map(({ skip, length }) => decodeSeriesBlock(bytes.subarray(blocksAt + skip, blocksAt + skip + length), timestamps.length));
    return { timestamps, series };
  }

}

/**
 * True when a series key (`metric` or `metric{k="v",…}`, see seriesKey) is of `metric` and
 * has every `k="v"` pair asked for: series are picked before their blocks are decompressed.
 */
function matches(key: string, metric: string, pairs: readonly string[]): boolean {
  if (key.length === metric.length) return key === metric && pairs.length === 0;
  if (!key.startsWith(metric) || key[metric.length] !== "{") return false;
  const labels = key.slice(metric.length);
  return pairs.every((pair) => {
    for (let at = labels.indexOf(pair); at >= 0; at = labels.indexOf(pair, at + 1)) {
      const before = labels[at - 1], after = labels[at + pair.length];
      if ((before === "{" || before === ",") && (after === "," || after === "}")) return true;
    }
    return false;
  });
}

/** One agent's data of a day, as columns: report timestamps (sorted) and aligned series. */
export interface AgentColumns {
  timestamps: number[];
  series: SeriesBlock[];
}

/**
 * Collects one agent's reports of a day, from raw records and an earlier seal, into
 * columns. A later `add` of the same (series, timestamp) wins: sources are added oldest first.
 */
export class AgentBuilder {
  private readonly byTs = new Map<number, Map<string, { metric: string; labels: Labels; value: number }>>();
  points = 0;

  add(tsMs: number, points: Iterable<{ metric: string; labels: Labels; value: number }>): void {
    let row = this.byTs.get(tsMs);
    if (!row) this.byTs.set(tsMs, (row = new Map()));
    for (const p of points) {
      const key = seriesKey(p.metric, p.labels);
      if (!row.has(key)) this.points++;
      row.set(key, p);
    }
  }

  addSealed(timestamps: readonly number[], series: Iterable<SeriesBlock>): void {
    for (const s of series) {
      s.values.forEach((value, i) => { if (value !== undefined) this.add(timestamps[i]!, [{ metric: s.metric, labels: s.labels, value }]); });
    }
  }

  columns(): AgentColumns {
    const timestamps = [...this.byTs.keys()].sort((a, b) => a - b);
    const series = new Map<string, SeriesBlock>();
    timestamps.forEach((ts, i) => {
      for (const [key, p] of this.byTs.get(ts)!) {
        let s = series.get(key);
        if (!s) series.set(key, (s = { metric: p.metric, labels: p.labels, values: new Array(timestamps.length).fill(undefined) }));
        s.values[i] = p.value;
      }
    });
    return { timestamps, series: [...series.values()] };
  }
}

/** Writes one agent's columns into a sealed day being built. */
export async function writeAgent(env: RootDatabase, agentId: string, { timestamps, series }: AgentColumns): Promise<void> {
  const encoder = new TextEncoder();
  const keys = series.map((s) => encoder.encode(seriesKey(s.metric, s.labels)));
  const blocks = series.map(encodeSeriesBlock);
  const tsBlock = encodeTimestampBlock(timestamps);
  const size = 4 + keys.reduce((n, k) => n + 6 + k.length, 0) + 4 + tsBlock.length + blocks.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, series.length);
  let at = 4;
  keys.forEach((k, i) => {
    view.setUint16(at, k.length);
    out.set(k, at + 2);
    view.setUint32(at + 2 + k.length, blocks[i]!.length);
    at += 6 + k.length;
  });
  view.setUint32(at, tsBlock.length);
  out.set(tsBlock, at + 4);
  at += 4 + tsBlock.length;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  await env.put(agentId, out);
}
