import type { CheckDefinition } from "../checks/definitions.ts";
import type { CheckTableValidator } from "../config.ts";

/** The checks an agent runs, and what it had to leave out. */
export interface CombinedChecks {
  checks: CheckDefinition[];
  /** Server-managed checks this agent refused (an unknown type from a newer server), one line each. */
  skipped: string[];
  /** Server-managed checks that run. */
  remote: number;
  /** Local `[[checks]]` that run (those not replaced by a server-managed one of the same name). */
  local: number;
}

/**
 * Local `[[checks]]` and server-managed checks together: the union, the server's check
 * winning where both have the same name. Each server-managed table is validated on its
 * own, so one this agent cannot run (a type it does not know yet) is left out with its
 * reason and the others still run.
 */
export function combineChecks(local: readonly CheckDefinition[], remoteTables: readonly unknown[], validate: CheckTableValidator): CombinedChecks {
  const remote: CheckDefinition[] = [];
  const skipped: string[] = [];
  for (const table of remoteTables) {
    const { checks, problems } = validate([table]);
    const name = typeof table === "object" && table !== null ? String((table as { name?: unknown }).name) : "?";
    if (problems.length || !checks[0]) skipped.push(`${name}: ${problems.map((p) => p.replace(/^checks\[0\]\.?/, "")).join("; ")}`);
    else if (remote.some((c) => c.name === name)) skipped.push(`${name}: sent twice by the server; the first one runs`);
    else remote.push(checks[0]);
  }
  const names = new Set(remote.map((c) => c.name));
  const kept = local.filter((c) => !names.has(c.name));
  return { checks: [...remote, ...kept], skipped, remote: remote.length, local: kept.length };
}
