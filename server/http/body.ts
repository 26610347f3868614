import type { Context, Next } from "koa";
import type { ByteBudget } from "../actors/ingest/byte-budget.ts";
import { TsmonError } from "../../common/errors.ts";

/**
 * Reads a JSON request body, refusing what is too large (413) before buffering it,
 * what is not JSON by content type (415), and what does not parse (400).
 */
export async function readJsonBody(ctx: Context, limitBytes: number): Promise<unknown> {
  return (await readJson(ctx, limitBytes)).body;
}

/** readJsonBody, with the body's size in bytes. Bodies being read count against the server's
 *  request bytes (holdBodies), so many large bodies at once are refused rather than buffered. */
export async function readJson(ctx: Context, limitBytes: number): Promise<{ body: unknown; bytes: number }> {
  if (!ctx.is("application/json")) {
    throw new TsmonError("UNSUPPORTED_MEDIA_TYPE", "send the body as JSON with 'content-type: application/json'");
  }
  const declared = Number(ctx.get("content-length") || 0);
  if (declared > limitBytes) throw tooLarge(ctx, limitBytes);
  const budget = (ctx.state as BodyState).requestBytes;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      if (size + chunk.length > limitBytes) throw tooLarge(ctx, limitBytes);
      try {
        budget?.take(chunk.length);
      } catch (err) {
        ctx.set("Connection", "close"); // the rest of the body is not read
        throw err;
      }
      size += chunk.length;
      chunks.push(chunk);
    }
    return { body: parseJson(Buffer.concat(chunks).toString("utf8")), bytes: size };
  } finally {
    budget?.give(size);
  }
}

interface BodyState { requestBytes?: ByteBudget }

/** Middleware: request bodies read from here on count against `budget`. */
export function holdBodies(budget: ByteBudget) {
  return async (ctx: Context, next: Next): Promise<void> => {
    (ctx.state as BodyState).requestBytes = budget;
    await next();
  };
}

function parseJson(text: string): unknown {
  // Deep nesting parses, but every later walk of it (validation, the copy to an ingest
  // thread) recurses once per level and can overflow the stack.
  if (nestingDepth(text) > MAX_JSON_DEPTH) throw new TsmonError("INVALID_ARGUMENT", `body: nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TsmonError("INVALID_ARGUMENT", `body: not valid JSON (${(err as Error).message})`);
  }
}

/** Deepest nesting any request body of the API needs is a handful of levels. */
export const MAX_JSON_DEPTH = 32;

/** The deepest nesting of arrays and objects in a JSON text (brackets inside strings skipped). */
export function nestingDepth(text: string): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) { if (++depth > max) max = depth; }
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * The rest of an over-large body is not read: the connection closes after the 413, so
 * the next request on it cannot be read from the middle of this one's body.
 */
function tooLarge(ctx: Context, limitBytes: number): TsmonError {
  ctx.set("Connection", "close");
  return new TsmonError("PAYLOAD_TOO_LARGE", `body larger than ${limitBytes} bytes`);
}

