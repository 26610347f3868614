import { TsmonError } from "../../common/errors.ts";
import { validateCheckTables } from "../../agent/checks/definitions.ts";

/** A check name that is its id in URLs: letters, digits and `._:-`. */
const NAME = /^[A-Za-z0-9._:-]+$/;
/** Names the server gives the agent-mesh checks (mesh.ts); nobody else may use them. */
export const RESERVED_PREFIXES = ["mesh:", "mesh-tcp:"] as const;
const PATTERN = /^[\x21-\x7e]{1,200}$/;

/** A validated check body: the table agents get and the agents it is for. */
export interface CheckInput {
  name: string;
  agent_pattern: string;
  table: Record<string, unknown>;
}

/**
 * Validates a `POST/PUT /v1/checks` body with the agent's own validator
 * (validateCheckTables and each type's schema), so the server never stores a check an
 * agent of this version would refuse. Every problem is reported, by field name.
 */
export function parseCheckInput(body: unknown, nameFromPath?: string): CheckInput {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new TsmonError("INVALID_ARGUMENT", "body: expected a JSON object with the fields of a [[checks]] table (name, type, target, …) and agent_pattern");
  }
  const { agent_pattern: pattern = "*", created_at: _c, updated_at: _u, ...table } = body as Record<string, unknown>;
  const problems: string[] = [];
  if (nameFromPath !== undefined) {
    if (table.name === undefined) table.name = nameFromPath;
    else if (table.name !== nameFromPath) problems.push(`name: "${String(table.name)}" differs from the id in the path ("${nameFromPath}"); a check's name is its id and cannot change`);
  }
  const name = table.name;
  if (typeof name === "string") {
    if (!NAME.test(name)) problems.push("name: use only letters, digits and . _ : - (the name is the check's id in URLs)");
    const reserved = RESERVED_PREFIXES.find((p) => name.startsWith(p));
    if (reserved) problems.push(`name: names starting with "${reserved}" are reserved for the agent mesh ([reachability] mesh in server.toml)`);
  }
  if (typeof pattern !== "string" || !PATTERN.test(pattern)) {
    problems.push("agent_pattern: expected a glob of agent ids (printable ASCII without spaces, 1-200 characters; * any run, ? one character)");
  }
  // validateCheckTables names fields `checks[0].x`; here the body is the table.
  problems.push(...validateCheckTables([table]).problems.map((p) => p.replace(/^checks\[0\]\./, "").replace(/^checks\[0\]:/, "body:")));
  if (problems.length) throw new TsmonError("INVALID_ARGUMENT", problems.join("; "));
  return { name: name as string, agent_pattern: pattern as string, table };
}

/** The `:pattern` of the agent-config routes, checked like a check's agent_pattern. */
export function parsePattern(pattern: string): string {
  if (!PATTERN.test(pattern)) throw new TsmonError("INVALID_ARGUMENT", "pattern: expected a glob of agent ids (printable ASCII without spaces, 1-200 characters; * any run, ? one character)");
  return pattern;
}
