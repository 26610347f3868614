import type { Context, Next } from "koa";
import { badRequest } from "./errors.ts";

/**
 * Longest path segment (an id in `/v1/users/:username`) and query value accepted. Ids end
 * up in LMDB keys, whose limit (≈ 1,978 bytes) a longer id would hit as a server error;
 * every id tsmon creates is far shorter (agent ids at most 128 characters).
 */
export const MAX_ID_LENGTH = 256;
/** List-valued parameters (`labels=k:v,…`) may be longer. */
export const MAX_LIST_PARAM_LENGTH = 2048;
const LIST_PARAMS = new Set(["labels", "agents", "metrics"]);

/** Refuses over-long path segments and query values with a 400 before any route sees them. */
export function boundedInput() {
  return async (ctx: Context, next: Next): Promise<void> => {
    for (const segment of ctx.path.split("/")) {
      if (segment.length > MAX_ID_LENGTH) throw badRequest("path", `a segment of ${segment.length} characters is longer than ${MAX_ID_LENGTH}`);
    }
    for (const [name, raw] of Object.entries(ctx.query)) {
      const max = LIST_PARAMS.has(name) ? MAX_LIST_PARAM_LENGTH : MAX_ID_LENGTH;
      for (const value of Array.isArray(raw) ? raw : [raw ?? ""]) {
        if (value.length > max) throw badRequest(name.slice(0, 40), `${value.length} characters is longer than ${max}`);
      }
    }
    await next();
  };
}
