import { z } from "zod";
import type { Check, CommonCheckConfig } from "./check.ts";
import { CHECK_PLUGINS } from "./registry.ts";

/** One validated `[[checks]]` table: the common fields, the label, and the plugin's own fields. */
export interface CheckDefinition extends CommonCheckConfig {
  /** The `target` label of its samples. */
  readonly label: string;
  /** The plugin's fields, as its schema returned them (defaults filled). */
  readonly options: unknown;
}

const DEFAULT_INTERVAL_SECS = 30;
const DEFAULT_TIMEOUT_MS = 5000;

const common = z.object({
  name: z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces"),
  type: z.string().refine((t) => Object.hasOwn(CHECK_PLUGINS, t), {
    message: `unknown check type; expected one of ${Object.keys(CHECK_PLUGINS).join(", ")}`,
  }),
  // Label values are at most 256 characters on the server.
  target: z.string().min(1).max(256),
  interval_secs: z.number().min(1).max(86_400).default(DEFAULT_INTERVAL_SECS),
  timeout_ms: z.number().int().min(1).max(120_000).optional(),
  traceroute_on_failure: z.boolean().optional(),
});

const COMMON_KEYS = ["name", "type", "target", "interval_secs", "timeout_ms", "traceroute_on_failure"];

/**
 * Validates every `[[checks]]` table: the common fields, then the rest with the plugin's
 * schema. Problems are `checks[i].field: what is wrong`, all of them at once.
 */
export function validateCheckTables(tables: readonly unknown[]): { checks: CheckDefinition[]; problems: string[] } {
  const checks: CheckDefinition[] = [];
  const problems: string[] = [];
  const names = new Map<string, number>();
  tables.forEach((table, i) => {
    const at = (path: readonly PropertyKey[]) => `checks[${i}]${path.map((p) => `.${String(p)}`).join("")}`;
    if (typeof table !== "object" || table === null || Array.isArray(table) || table instanceof Date) {
      problems.push(`${at([])}: expected a table ([[checks]])`);
      return;
    }
    const raw = table as Record<string, unknown>;
    const head = common.safeParse(Object.fromEntries(COMMON_KEYS.filter((k) => k in raw).map((k) => [k, raw[k]])));
    if (!head.success) for (const issue of head.error.issues) problems.push(`${at(issue.path)}: ${issue.message}`);
    const plugin = typeof raw.type === "string" && Object.hasOwn(CHECK_PLUGINS, raw.type) ? CHECK_PLUGINS[raw.type]! : undefined;
    if (!plugin) return;
    const rest = Object.fromEntries(Object.entries(raw).filter(([k]) => !COMMON_KEYS.includes(k)));
    const own = plugin.schema.safeParse(rest);
    if (!own.success) for (const issue of own.error.issues) problems.push(`${at(issue.path)}: ${issue.message}`);
    if (!head.success || !own.success) return;
    const h = head.data;
    const timeoutMs = h.timeout_ms ?? Math.min(DEFAULT_TIMEOUT_MS, h.interval_secs * 1000);
    if (timeoutMs > h.interval_secs * 1000) problems.push(`${at(["timeout_ms"])}: ${timeoutMs} ms is longer than interval_secs (${h.interval_secs} s); shorten it or probe less often`);
    const commonConfig: CommonCheckConfig = {
      name: h.name, type: h.type, target: h.target, interval_secs: h.interval_secs, timeout_ms: timeoutMs,
      traceroute_on_failure: h.traceroute_on_failure ?? plugin.tracesOnFailure ?? false,
    };
    const targetProblem = plugin.targetProblem?.(commonConfig);
    if (targetProblem) problems.push(`${at(["target"])}: ${targetProblem}`);
    const configProblem = plugin.configProblem?.(commonConfig, own.data);
    if (configProblem) problems.push(`${at([configProblem.field])}: ${configProblem.message}`);
    const first = names.get(h.name);
    if (first !== undefined) problems.push(`${at(["name"])}: "${h.name}" is already the name of checks[${first}]; names must be unique (they label the samples)`);
    else names.set(h.name, i);
    checks.push(Object.freeze({ ...commonConfig, label: plugin.label(commonConfig, own.data), options: own.data }));
  });
  return { checks, problems };
}

/** The runnable check for a definition that validateCheckTables returned. */
export function createCheck(def: CheckDefinition): Check {
  return CHECK_PLUGINS[def.type]!.create(def, def.options);
}
