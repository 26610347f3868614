import type { Database, RootDatabase } from "lmdb";

/*
 * Exactly-once keys: a tsmon agent numbers its reports (a random stream id kept with its
 * spool, and a sequence number), and resends a report until it hears an acknowledgement.
 * A resend after an acknowledgement lost on the wire, or one that reaches another PM2
 * instance, must not be stored twice. Each (agent, stream, sequence) is recorded in the
 * `report-keys` database of the raw partition the report's records go to, in the same
 * LMDB transaction as those records: both commit, or neither does. Later writes of the
 * same key are skipped (and still acknowledged).
 *
 * A compaction carries a raw generation's keys over to the day's chunks (copyReportKeys)
 * before it deletes the generation, and a write looks there first: the keys live until the
 * day is sealed (12 h after its end) or expires, whatever happens to the records. An agent resends only what it has not heard acknowledged, so a
 * resend more than a day late needs an agent that could not reach any server for that
 * long after an acknowledgement was lost: within that bound, a report is stored once.
 */

/** The identity of one report of a tsmon agent. */
export interface ReportKey {
  streamId: string;
  sequence: number;
}

type StoredKey = [agentId: string, streamId: string, sequence: number];

const books = new WeakMap<RootDatabase, Database<number, StoredKey>>();

function keysOf(env: RootDatabase): Database<number, StoredKey> {
  let db = books.get(env);
  // msgpack whatever the environment's own encoding (chunk environments are binary).
  if (!db) books.set(env, (db = env.openDB<number, StoredKey>({ name: "report-keys", encoding: "msgpack" })));
  return db;
}

/**
 * Runs `write` (its puts to `env` and its other databases) only if the key is not in `env`
 * yet, recording the key in the same transaction. Outside a transaction, the writes are
 * queued conditionally and the promise says whether they happened; inside one (a
 * synchronous late write), the check and the writes run at once.
 */
export function writeOnce(env: RootDatabase, agentId: string, key: ReportKey, writtenAtMs: number, write: () => void): Promise<boolean> {
  const keys = keysOf(env);
  const stored: StoredKey = [agentId, key.streamId, key.sequence];
  return keys.ifNoExists(stored, () => {
    void keys.put(stored, writtenAtMs);
    write();
  });
}

/** The synchronous form, for use inside a write transaction. Returns false for a duplicate. */
export function writeOnceSync(env: RootDatabase, agentId: string, key: ReportKey, writtenAtMs: number, write: () => void): boolean {
  const keys = keysOf(env);
  const stored: StoredKey = [agentId, key.streamId, key.sequence];
  if (keys.get(stored) !== undefined) return false;
  void keys.put(stored, writtenAtMs);
  write();
  return true;
}

/** Whether the key has been stored in this partition (tests, diagnostics). */
export function hasReportKey(env: RootDatabase, agentId: string, key: ReportKey): boolean {
  return keysOf(env).get([agentId, key.streamId, key.sequence]) !== undefined;
}

/** Copies every key of a raw generation into `to` (a chunk environment), not yet flushed. */
export function copyReportKeys(from: RootDatabase, to: RootDatabase): void {
  const target = keysOf(to);
  for (const { key, value } of keysOf(from).getRange({})) void target.put(key, value);
}
