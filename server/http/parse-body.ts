import type { z } from "zod";
import { TsmonError } from "../../common/errors.ts";
import { formatIssues } from "../config/issues.ts";

/** Validates a request body with its declared schema; a 400 names every invalid field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new TsmonError("INVALID_ARGUMENT", formatIssues(parsed.error.issues).join("; "));
  return parsed.data;
}
