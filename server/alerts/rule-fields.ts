import { z } from "zod";

/*
 * The fields every alert rule has, whatever its type. They live apart from the config
 * schema because each condition (conditions/*.ts) builds its rule type from them, and the
 * config schema is in turn built from the conditions.
 */

export const severitySchema = z.enum(["info", "warning", "critical"]);

export const ruleBaseFields = {
  id: z.string().min(1).max(128).optional(),
  name: z.string().min(1).max(200),
  metric: z.string().min(1).max(200),
  agent_pattern: z.string().min(1).max(200).default("*"),
  labels: z.record(z.string(), z.string()).default({}),
  severity: severitySchema.default("warning"),
  silence_secs: z.number().int().min(0).default(0),
  enabled: z.boolean().default(true),
};

/** The `[[alert.rules]]` table of one type: the common fields (the type's own may override one, e.g. a default metric), `type`, and the type's fields. */
export type RuleShape<T extends string, F extends z.ZodRawShape> = Omit<typeof ruleBaseFields, keyof F> & { type: z.ZodLiteral<T> } & F;

/** A constraint between fields of one rule, found by its type's `check`. */
export interface RuleIssue {
  field: string;
  message: string;
}

/** The schema of one rule type's table; strict, so a misspelt field is an error. */
export function ruleTableSchema<T extends string, F extends z.ZodRawShape>(type: T, fields: F): z.ZodObject<RuleShape<T, F>, z.core.$strict> {
  return z.strictObject({ ...ruleBaseFields, type: z.literal(type), ...fields }) as unknown as z.ZodObject<RuleShape<T, F>, z.core.$strict>;
}

/** A parsed rule of one type, as its condition sees it. */
export type RuleOf<T extends string, F extends z.ZodRawShape> = z.output<z.ZodObject<RuleShape<T, F>, z.core.$strict>>;
