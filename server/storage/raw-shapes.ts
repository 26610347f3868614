import { createHash } from "node:crypto";
import type { Database, RootDatabase } from "lmdb";
import { parseSeriesText, type SeriesRef } from "../../common/series-text.ts";
import { AFTER_RECORDS } from "./root-keys.ts";

/*
 * A raw record names its series by a shape id: the first 64 bits of the SHA-1 of the
 * series text (series-text.ts), whose text is stored once per raw partition (ShapeBook). An agent sends the same series every time, so a day holds a few
 * shapes per agent and each record carries only its values.
 */

/** The shape id of a series text: the first 64 bits of its SHA-1, in hex. */
export function shapeIdOf(text: string): string {
  return createHash("sha1").update(text).digest("hex").slice(0, 16);
}

/** Parsed shapes kept per partition (beyond, the memory starts again): a sealer reads every agent's. */
const MAX_PARSED = 10_000;

/** Where a shape's text sits in a raw environment's root keyspace: after the records (root-keys.ts). */
const SHAPE_KEY = `${AFTER_RECORDS}shape:`;

/**
 * The shapes of one raw partition environment, with what this thread knows of them. The
 * texts are root keys (root-keys.ts), written in the same conditional write as the first
 * record that uses them: with a named database, records were seen stored without their
 * shape. Generations written before keep them in a `shapes` database, read when the root
 * has none.
 */
export class ShapeBook {
  private readonly root: RootDatabase;
  private legacy: Database<string, string> | null | undefined;
  /** Ids known to be stored (written by this thread or read back). */
  private readonly stored = new Set<string>();
  private readonly parsed = new Map<string, SeriesRef[]>();

  constructor(env: RootDatabase) {
    this.root = env;
  }

  /**
   * Stores the shape unless it is already there. Called in the same event turn (or the same
   * synchronous transaction) as the record that uses it, so both commit together.
   */
  ensure(id: string, text: string): Promise<unknown> | undefined {
    if (this.stored.has(id)) return undefined;
    const existing = this.root.get(SHAPE_KEY + id) as string | undefined;
    // Known as stored only once read back: a put inside a conditional write (a closed
    // generation, a resent report's key) resolves at once, whether or not its block commits,
    // so the next record would go without its shape. Until the commit is seen, each record
    // writes the shape again (the same bytes).
    if (existing === undefined) return this.root.put(SHAPE_KEY + id, text);
    if (existing !== text) throw new Error(`two series texts share shape id ${id}; this report cannot be stored`);
    this.stored.add(id);
    return undefined;
  }

  /** The series of a stored shape. */
  refs(id: string): SeriesRef[] {
    let refs = this.parsed.get(id);
    if (!refs) {
      const text = (this.root.get(SHAPE_KEY + id) as string | undefined) ?? this.legacyShapes()?.get(id);
      if (text === undefined) throw new Error(`raw record names shape ${id}, which its partition does not hold`);
      if (this.parsed.size >= MAX_PARSED) this.parsed.clear();
      this.parsed.set(id, (refs = parseSeriesText(text)));
    }
    return refs;
  }

  /** The `shapes` database of a generation written before shapes were root keys (null: none). */
  private legacyShapes(): Database<string, string> | null {
    if (this.legacy === undefined) {
      try {
        // lmdb-js takes `create` (false: open only what exists); its types lack it.
        this.legacy = this.root.openDB<string, string>({ name: "shapes", encoding: "string", create: false } as { name: string; encoding: "string" });
      } catch {
        this.legacy = null;
      }
    }
    return this.legacy;
  }
}

const books = new WeakMap<RootDatabase, ShapeBook>();

/** The shape book of a raw partition environment (one per open handle). */
export function shapesOf(env: RootDatabase): ShapeBook {
  let book = books.get(env);
  if (!book) books.set(env, (book = new ShapeBook(env)));
  return book;
}
