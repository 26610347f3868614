/**
 * A partition environment's root keyspace holds its records (keys that start with an agent
 * id: printable ASCII) and, after all of them, what else the environment keeps: keys that
 * start with this character (a string key, or an array key whose first element is one).
 * Kept in the root rather than in named databases: a named database is opened — created —
 * by every writer thread of every process at a new file's first write, and writes were seen
 * lost where two did so at once.
 */
export const AFTER_RECORDS = "\uffff";

/** True for a root key that is not a record's (see AFTER_RECORDS). */
export function isAfterRecords(key: unknown): boolean {
  const first = Array.isArray(key) ? key[0] : key;
  return typeof first === "string" && first.startsWith(AFTER_RECORDS);
}
