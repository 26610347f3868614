import { parse as parseToml } from "smol-toml";

/*
 * Every agent.toml field from the environment: `TSMON_AGENT_` + the field's name in upper
 * case (`TSMON_AGENT_SERVER_ENDPOINT`, `TSMON_AGENT_AUTH_TOKEN`, `TSMON_AGENT_AGENT_ID`).
 * Variables override the file; flags override both. Lists (`slow_paths`) are
 * comma-separated; `checks` takes a TOML inline array of tables.
 */

export const AGENT_ENV_PREFIX = "TSMON_AGENT_";

/** How each field's text is read. */
export type EnvKind = "string" | "number" | "boolean" | "list" | "value";

/** Names other parts of tsmon read: not agent fields. */
const NOT_AGENT_FIELDS = new Set(["TSMON_AGENT_CONFIG"]);

export interface AgentEnv {
  /** Keyed by field, read as the field's type (still to be validated with the file's values). */
  values: Record<string, unknown>;
  problems: string[];
  unknown: string[];
  used: string[];
}

/** Reads the `TSMON_AGENT_` variables of `env`, each field's text as `kinds[field]` says. */
export function agentEnvOverrides(env: Record<string, string | undefined>, kinds: Record<string, EnvKind>): AgentEnv {
  const out: AgentEnv = { values: {}, problems: [], unknown: [], used: [] };
  for (const [name, raw] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!name.startsWith(AGENT_ENV_PREFIX) || raw === undefined || NOT_AGENT_FIELDS.has(name)) continue;
    const field = name.slice(AGENT_ENV_PREFIX.length).toLowerCase();
    const kind = Object.hasOwn(kinds, field) ? kinds[field] : undefined;
    if (!kind) {
      out.unknown.push(name);
      continue;
    }
    out.used.push(name);
    const text = raw.trim();
    if (kind === "string") out.values[field] = raw;
    else if (kind === "list") out.values[field] = text.split(",").map((v) => v.trim()).filter(Boolean);
    else if (kind === "number") {
      if (text !== "" && Number.isFinite(Number(text))) out.values[field] = Number(text);
      else out.problems.push(`${name}: expected a number, got '${raw}'`);
    } else if (kind === "boolean") {
      if (text === "true" || text === "false") out.values[field] = text === "true";
      else out.problems.push(`${name}: expected true or false, got '${raw}'`);
    } else {
      try {
        out.values[field] = parseToml(`v = ${text}`).v;
      } catch (err) {
        out.problems.push(`${name}: expected a TOML value such as [{ … }]: ${(err as Error).message.split("\n")[0]}`);
      }
    }
  }
  return out;
}
