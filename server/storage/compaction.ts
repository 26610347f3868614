import { CHUNK_MS, mergeIntoChunk } from "./chunks.ts";
import type { PartitionSet } from "./partitions.ts";
import { distinctAgents, rawRecords, type RawRecord } from "./raw-records.ts";
import { copyReportKeys } from "./report-keys.ts";

/** What one compaction of a day did. */
export interface Compaction { generations: number; points: number }

/**
 * Compacts a day's fresh data (Prometheus' head → block, on LMDB): closes the raw generation
 * being written (writers move to the next), folds every closed generation into per-agent hour
 * chunks, makes them durable, and only then deletes the generations. Whatever moment a kill
 * interrupts it, nothing is lost — the raw records stay until their chunks are on disk — and
 * nothing is counted twice: a generation compacted again is merged into its chunks by
 * (series, instant), and readers keep one value per series and instant meanwhile.
 * Runs in one thread of one process at a time (the sealer's lease), like sealing.
 */
export async function compactDay(partitions: PartitionSet, day: string): Promise<Compaction> {
  if (partitions.currentHoldsRecords(day)) await partitions.rotate(day);
  const closed = partitions.closedGenerations(day);
  if (!closed.length) return { generations: 0, points: 0 };
  // A compaction cut short after moving the writers on may not have closed its generation.
  for (const g of closed) await partitions.closeGeneration(day, g);
  const raws = closed.map((g) => partitions.rawEnv(day, g));
  const { env } = partitions.chunksForWriting(day);
  env.resetReadTxn();
  const agents = new Set<string>();
  for (const db of raws) for (const agentId of distinctAgents(db)) agents.add(agentId);
  let points = 0;
  // Agent by agent, so memory holds one agent's closed records at a time.
  for (const agentId of [...agents].sort()) {
    const byHour = new Map<number, RawRecord[]>();
    for (const db of raws) {
      for (const r of rawRecords(db, agentId, -Infinity, Infinity)) {
        const hour = Math.floor(r.tsMs / CHUNK_MS) * CHUNK_MS;
        const records = byHour.get(hour);
        if (records) records.push(r); else byHour.set(hour, [r]);
        points += r.values.length;
      }
    }
    for (const [hour, rows] of byHour) mergeIntoChunk(env, agentId, hour, rows);
  }
  // Exactly-once keys outlive their generation: a resend after this still finds its key.
  for (const db of raws) copyReportKeys(db, env);
  await env.flushed;
  for (const g of closed) await partitions.removeRaw(day, g);
  return { generations: closed.length, points };
}
