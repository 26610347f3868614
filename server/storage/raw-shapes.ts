import { createHash } from "node:crypto";
import type { Database, RootDatabase } from "lmdb";
import { parseSeriesText, type SeriesRef } from "../../common/series-text.ts";

/*
 * A raw record names its series by a shape id: the first 64 bits of the SHA-1 of the
 * series text (series-text.ts), whose text is stored once per raw partition in its
 * `shapes` database. An agent sends the same series every time, so a day holds a few
 * shapes per agent and each record carries only its values.
 */

/** The shape id of a series text: the first 64 bits of its SHA-1, in hex. */
export function shapeIdOf(text: string): string {
  return createHash("sha1").update(text).digest("hex").slice(0, 16);
}

/** Parsed shapes kept per partition (beyond, the memory starts again): a sealer reads every agent's. */
const MAX_PARSED = 10_000;

/** The shapes of one raw partition environment, with what this thread knows of them. */
export class ShapeBook {
  private readonly db: Database<string, string>;
  /** Ids known to be stored (written by this thread or read back). */
  private readonly stored = new Set<string>();
  private readonly parsed = new Map<string, SeriesRef[]>();

  constructor(env: RootDatabase) {
    this.db = env.openDB<string, string>({ name: "shapes", encoding: "string" });
  }

  /**
   * Stores the shape unless it is already there. Called in the same event turn (or the same
   * synchronous transaction) as the record that uses it, so both commit together.
   */
  ensure(id: string, text: string): Promise<unknown> | undefined {
    if (this.stored.has(id)) return undefined;
    const existing = this.db.get(id);
    if (existing === undefined) return this.db.put(id, text).then(() => this.stored.add(id));
    if (existing !== text) throw new Error(`two series texts share shape id ${id}; this report cannot be stored`);
    this.stored.add(id);
    return undefined;
  }

  /** The series of a stored shape. */
  refs(id: string): SeriesRef[] {
    let refs = this.parsed.get(id);
    if (!refs) {
      const text = this.db.get(id);
      if (text === undefined) throw new Error(`raw record names shape ${id}, which its partition does not hold`);
      if (this.parsed.size >= MAX_PARSED) this.parsed.clear();
      this.parsed.set(id, (refs = parseSeriesText(text)));
    }
    return refs;
  }
}

const books = new WeakMap<RootDatabase, ShapeBook>();

/** The shape book of a raw partition environment (one per open handle). */
export function shapesOf(env: RootDatabase): ShapeBook {
  let book = books.get(env);
  if (!book) books.set(env, (book = new ShapeBook(env)));
  return book;
}
