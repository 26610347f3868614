import path from "node:path";
import { LOG_FORMATS } from "../common/log-format.ts";
import { parsePublicKey } from "../common/agent-release.ts";
import type { AgentConfigInput } from "./config.ts";

/* The check of each agent config field (file, flags and environment alike), and the endpoint syntax. */

const ENDPOINT = /^(?:(https?|grpcs?):\/\/)?(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]@]+):(\d{1,5})\/?$/;

/*
 * Checked by hand rather than with a schema library: zod alone would cost the agent
 * process about 5 MB of resident memory for a dozen fields. A check says what is wrong with
 * a value, or undefined when it is fine; one problem per field is reported.
 */
type Check = (value: unknown) => string | undefined;

export const FIELDS: Record<keyof AgentConfigInput, Check> = {
  agent_id: text({ min: 1, max: 128, pattern: /^[\x21-\x7e]+$/, problem: "must be printable ASCII without spaces" }),
  server_endpoint: text({ valid: (s) => parseEndpoint(s) !== undefined, problem: "expected http://host:port, https://host:port, grpc://host:port, grpcs://host:port or host:port (port 1-65535)" }),
  auth_token: text({ min: 1 }),
  collection_interval_secs: number({ min: 0.1, max: 86_400 }),
  buffer_max_size: number({ integer: true, min: 1, max: 1_000_000 }),
  report_interval_secs: number({ min: 0.1, max: 86_400 }),
  state_dir: text({ min: 1, valid: path.isAbsolute, problem: "must be an absolute path" }),
  spool_dir: text({ min: 1, valid: path.isAbsolute, problem: "must be an absolute path" }),
  spool_max_bytes: number({ integer: true, min: 64 * 1024, max: 2 ** 40 }),
  drain_reports_per_sec: number({ min: 0.1, max: 10_000 }),
  tls: (value) => (typeof value === "boolean" ? undefined : expected("boolean", value)),
  ca_file: text({ min: 1 }),
  slow_paths: list({ max: 32, valid: (p) => p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p), problem: "each path must be absolute" }),
  slow_interval_secs: number({ min: 1, max: 86_400 }),
  slow_max_files: number({ integer: true, min: 1, max: 1_000_000_000 }),
  slow_max_secs: number({ min: 0.1, max: 86_400 }),
  // Each table is validated by its check type's own schema (finishAgentConfig).
  checks: (value) => (Array.isArray(value) ? undefined : `${expected("array of tables", value)} (write each check as [[checks]])`),
  check_concurrency: number({ integer: true, min: 1, max: 1000 }),
  advertise_address: text({ min: 1, max: 256, pattern: /^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]@]+)(:\d{1,5})?$/, problem: "expected host, host:port, or [ipv6]:port" }),
  log_format: (value) => (typeof value === "string" && (LOG_FORMATS as readonly string[]).includes(value) ? undefined : `expected one of ${LOG_FORMATS.join(", ")}`),
  update_public_key: text({ min: 1, valid: (s) => publicKeyProblem(s) === undefined, problem: "not an ed25519 public key: paste the PEM, or its base64 line (MCowBQYDK2VwAyEA…), from openssl pkey -in KEY -pubout" }),
  auto_update: (value) => (typeof value === "boolean" ? undefined : expected("boolean", value)),
  // Down to seconds, for tests; a fleet checking more often than hourly gains nothing.
  update_check_hours: number({ min: 0.0001, max: 8760 }),
  update_url: text({ valid: (s) => /^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(s), problem: "expected http(s)://host:port, the server's REST port" }),
  update_trial_secs: number({ min: 1, max: 86_400 }),
};

function publicKeyProblem(text: string): string | undefined {
  try {
    parsePublicKey(text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function list(rule: { max: number; valid: (s: string) => boolean; problem: string }): Check {
  return (value) => {
    if (!Array.isArray(value)) return expected("array of strings", value);
    if (value.length > rule.max) return `Too big: expected at most ${rule.max} entries`;
    const bad = value.findIndex((v) => typeof v !== "string" || !v || !rule.valid(v));
    if (bad >= 0) return `entry ${bad}: ${typeof value[bad] === "string" ? rule.problem : expected("string", value[bad])}`;
    return undefined;
  };
}

function text(rule: { min?: number; max?: number; pattern?: RegExp; valid?: (s: string) => boolean; problem?: string }): Check {
  return (value) => {
    if (typeof value !== "string") return expected("string", value);
    // Lengths only: the value may be a secret (auth_token) and is never echoed.
    if (rule.min !== undefined && value.length < rule.min) return `Too small: expected at least ${rule.min} character${rule.min === 1 ? "" : "s"}`;
    if (rule.max !== undefined && value.length > rule.max) return `Too big: expected at most ${rule.max} characters`;
    if ((rule.pattern && !rule.pattern.test(value)) || (rule.valid && !rule.valid(value))) return rule.problem;
    return undefined;
  };
}

function number(rule: { min: number; max: number; integer?: boolean }): Check {
  return (value) => {
    if (typeof value !== "number" || !Number.isFinite(value)) return expected("number", value);
    if (rule.integer && !Number.isInteger(value)) return `expected integer, received ${value}`;
    if (value < rule.min) return `Too small: expected >= ${rule.min}, received ${value}`;
    if (value > rule.max) return `Too big: expected <= ${rule.max}, received ${value}`;
    return undefined;
  };
}

export function expected(type: string, value: unknown): string {
  return `expected ${type}, received ${describeType(value)}`;
}

/** What a TOML value or flag is, in the words a user would use (TOML dates are Dates). */
function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof Date) return "date";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value === "object") return "table";
  return typeof value;
}

/** `http(s)://host:port`, `grpc(s)://host:port` or `host:port` (IPv6 in brackets) → dial target. */
export function parseEndpoint(endpoint: string): { scheme: "http" | "https" | "grpc" | "grpcs" | undefined; target: string } | undefined {
  const m = ENDPOINT.exec(endpoint.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { scheme: m[1] as "http" | "https" | "grpc" | "grpcs" | undefined, target: `${m[2]}:${port}` };
}
