import type { Database, Key } from "lmdb";

/** Keys removed per write transaction: other writers (ingest, the evaluator) wait at most this long. */
const PRUNE_BATCH = 5_000;

/**
 * Deletes the entries of a `[ts, id]`-keyed log older than `beforeMs`, oldest first, a
 * bounded batch per transaction; returns how many went.
 */
export async function pruneTimeKeyed<V>(db: Database<V, [number, string]>, beforeMs: number): Promise<number> {
  let removed = 0;
  for (;;) {
    const keys = [...db.getKeys({ start: [0, ""], end: [beforeMs, ""], limit: PRUNE_BATCH })];
    if (keys.length === 0) return removed;
    await removeKeys(db, keys);
    removed += keys.length;
    if (keys.length < PRUNE_BATCH) return removed;
  }
}

/** Deletes the given keys, a bounded batch per transaction. */
export async function removeKeys<K extends Key, V>(db: Database<V, K>, keys: readonly K[]): Promise<void> {
  for (let i = 0; i < keys.length; i += PRUNE_BATCH) {
    const chunk = keys.slice(i, i + PRUNE_BATCH);
    await db.transaction(() => { for (const k of chunk) db.remove(k); });
  }
}
