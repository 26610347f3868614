import type { Database, RootDatabase } from "lmdb";
import { AFTER_RECORDS } from "./root-keys.ts";

/*
 * Exactly-once keys: a tsmon agent numbers its reports (a random stream id kept with its
 * spool, and a sequence number), and resends a report until it hears an acknowledgement.
 * A resend after an acknowledgement lost on the wire, or one that reaches another PM2
 * instance, must not be stored twice. Each (agent, stream, sequence) is recorded in the
 * root keyspace of the raw partition the report's records go to (root-keys.ts), in the same
 * LMDB transaction as those records: both commit, or neither does. Later writes of the
 * same key are skipped (and still acknowledged).
 *
 * A compaction carries a raw generation's keys over to the day's chunks (copyReportKeys)
 * before it deletes the generation, and a write looks there first: the keys live until the
 * day is sealed (12 h after its end) or expires, whatever happens to the records. An agent
 * resends only what it has not heard acknowledged, so a resend more than a day late needs an
 * agent that could not reach any server for that long after an acknowledgement was lost:
 * within that bound, a report is stored once.
 */

/** The identity of one report of a tsmon agent. */
export interface ReportKey {
  streamId: string;
  sequence: number;
}

const MARK = `${AFTER_RECORDS}key`;

type StoredKey = [mark: typeof MARK, agentId: string, streamId: string, sequence: number];

const storedKey = (agentId: string, key: ReportKey): StoredKey => [MARK, agentId, key.streamId, key.sequence];

/** The value under a key: when it was written, as 8 bytes (raw environments are msgpack, chunk ones binary: bytes suit both). */
const writtenAt = (ms: number) => new Uint8Array(new Float64Array([ms]).buffer);

/**
 * Runs `write` (its puts to `env`) only if the key is not in `env` yet, recording the key
 * in the same transaction: the writes are queued conditionally and the promise says
 * whether they happened.
 */
export function writeOnce(env: RootDatabase, agentId: string, key: ReportKey, writtenAtMs: number, write: () => void): Promise<boolean> {
  const stored = storedKey(agentId, key);
  return env.ifNoExists(stored, () => {
    void env.put(stored, writtenAt(writtenAtMs));
    write();
  });
}

/** Whether the key has been stored in this partition. */
export function hasReportKey(env: RootDatabase, agentId: string, key: ReportKey): boolean {
  return env.getBinaryFast(storedKey(agentId, key)) !== undefined || legacyKeys(env)?.get([agentId, key.streamId, key.sequence]) !== undefined;
}

/** Copies every key of a raw generation into `to` (a chunk environment), not yet flushed. */
export function copyReportKeys(from: RootDatabase, to: RootDatabase): void {
  for (const key of from.getKeys({ start: [MARK], end: [MARK, AFTER_RECORDS] })) void to.put(key, from.getBinary(key)!);
  for (const { key, value } of legacyKeys(from)?.getRange({}) ?? []) void to.put([MARK, ...key], writtenAt(value));
}

const legacy = new WeakMap<RootDatabase, Database<number, [string, string, number]> | null>();

/** The `report-keys` database of a file written before the keys were root keys (null: none). */
function legacyKeys(env: RootDatabase): Database<number, [string, string, number]> | null {
  let db = legacy.get(env);
  if (db === undefined) {
    try {
      // lmdb-js takes `create` (false: open only what exists); its types lack it.
      db = env.openDB<number, [string, string, number]>({ name: "report-keys", encoding: "msgpack", create: false } as { name: string; encoding: "msgpack" });
    } catch {
      db = null;
    }
    legacy.set(env, db);
  }
  return db;
}
