import { z } from "zod";
import { parseMatcher } from "./expect.ts";

/* Field schemas more than one check type shares. */

export const portSchema = z.number().int().min(1).max(65535);

/** A substring or /regex/flags; a broken regex is refused at start-up, not at the first probe. */
export const matcherSchema = z.string().min(1).superRefine((pattern, ctx) => {
  const parsed = parseMatcher(pattern);
  if ("problem" in parsed) ctx.addIssue({ code: "custom", message: parsed.problem });
});
