import { parse as parseToml } from "smol-toml";
import type { z } from "zod";

/*
 * Every server.toml field from the environment, as containers and Kubernetes set them:
 * `TSMON_` + the field's path in upper case, sections joined by a double underscore
 * (`TSMON_HTTP_PORT`, `TSMON_AUTH__JWT_SECRET`, `TSMON_CERT_CHECK__ENABLED`). A value is
 * read as the field's type (numbers, true/false, text as is); arrays of tables such as
 * `alert.rules` take a TOML inline array. Variables override the file's values.
 */

export const ENV_PREFIX = "TSMON_";

/** Names other parts of tsmon read (the agent, PM2's ecosystem file, benchmarks): not server fields. */
const NOT_SERVER_FIELDS = /^TSMON_(AGENT_|INSTANCES$|SERVER_CONFIG$|SERVER_NODE_ARGS$|AGENT_CONFIG$)/;

type Kind = "number" | "boolean" | "string" | "value";
interface FieldNode { kind: Kind }
interface SectionNode { fields: Map<string, FieldNode | SectionNode> }

export interface EnvOverrides {
  /** Shaped like the file: `{ auth: { jwt_secret: "…" } }`. */
  values: Record<string, unknown>;
  /** `NAME: what is wrong`, for values that cannot be read as their field's type. */
  problems: string[];
  /** `TSMON_` variables that name no field (a typo, or Kubernetes' service links): warned about, not fatal. */
  unknown: string[];
  /** The variables read. */
  used: string[];
}

/** Reads the `TSMON_` variables of `env` against `schema` (an object schema). */
export function envOverrides(schema: z.ZodType, env: Record<string, string | undefined>): EnvOverrides {
  const root = describe(schema) as SectionNode;
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  const unknown: string[] = [];
  const used: string[] = [];
  for (const [name, raw] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined || NOT_SERVER_FIELDS.test(name)) continue;
    const path = name.slice(ENV_PREFIX.length).toLowerCase().split("__");
    let node: FieldNode | SectionNode | undefined = root;
    for (const key of path) node = node && "fields" in node ? node.fields.get(key) : undefined;
    if (!node || "fields" in node) {
      unknown.push(name);
      continue;
    }
    const value = readAs(node.kind, raw);
    if (value instanceof Error) {
      problems.push(`${name}: ${value.message}`);
      continue;
    }
    used.push(name);
    let at = values;
    for (const key of path.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
    at[path.at(-1)!] = value;
  }
  return { values, problems, unknown, used };
}

/** The environment's values laid over the file's, section by section. */
export function overlay(file: unknown, env: Record<string, unknown>): unknown {
  if (!isTable(file)) return Object.keys(env).length ? env : file;
  const out: Record<string, unknown> = { ...file };
  for (const [key, value] of Object.entries(env)) out[key] = isTable(value) && isTable(out[key]) ? overlay(out[key], value) : value;
  return out;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function readAs(kind: Kind, raw: string): unknown {
  const text = raw.trim();
  switch (kind) {
    case "string":
      return raw;
    case "number":
      return text !== "" && Number.isFinite(Number(text)) ? Number(text) : new Error(`expected a number, got '${raw}'`);
    case "boolean":
      return text === "true" ? true : text === "false" ? false : new Error(`expected true or false, got '${raw}'`);
    case "value":
      try {
        return parseToml(`v = ${text}`).v;
      } catch (err) {
        return new Error(`expected a TOML value such as [{ … }, { … }]: ${(err as Error).message.split("\n")[0]}`);
      }
  }
}

/** The zod schema as a tree of sections and typed fields (wrappers such as default() unwrapped). */
function describe(schema: z.ZodType): FieldNode | SectionNode {
  const def = (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
  switch (def.type) {
    case "default": case "prefault": case "optional": case "nullable": case "readonly":
      return describe(def.innerType!);
    case "pipe":
      return describe(def.in!);
    case "object":
      return { fields: new Map(Object.entries(def.shape!).map(([k, v]) => [k, describe(v)])) };
    case "number": case "int":
      return { kind: "number" };
    case "boolean":
      return { kind: "boolean" };
    case "string": case "enum": case "literal":
      return { kind: "string" };
    default:
      return { kind: "value" };
  }
}

interface ZodDef { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: Record<string, z.ZodType> }
