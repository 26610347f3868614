import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { parse as parseToml } from "smol-toml";
import type { LogFormat } from "../common/log-format.ts";
import { expected, FIELDS, parseEndpoint } from "./config-fields.ts";
import { agentEnvOverrides, type EnvKind } from "./config-env.ts";
import { tomlSyntaxProblem } from "../common/toml-syntax.ts";
import type { CheckDefinition } from "./checks/definitions.ts";
import { defaultStateDir } from "./state-dir.ts";
import { UPDATE_DEFAULTS, updateSettings, type UpdateSettings } from "./config-update.ts";

/** The agent's validated, defaulted, frozen configuration. */
export interface AgentConfig {
  readonly agentId: string;
  /** As configured (`http://host:port`, `https://host:port` or `host:port`). */
  readonly serverEndpoint: string;
  /** `host:port`, what the gRPC channel dials. */
  readonly grpcTarget: string;
  /**
   * How reports travel: gRPC for `grpc://`, `grpcs://` and bare `host:port`; HTTP JSON to
   * the REST port for `http(s)://` (falling back to gRPC, once, when the port turns out to
   * speak only HTTP/2, as an oxmon-style `http://host:9090` does).
   */
  readonly transport: "grpc" | "http";
  /** `http(s)://host:port`, the REST base URL, for transport "http". */
  readonly httpBase: string;
  readonly authToken: string | undefined;
  readonly collectionIntervalSecs: number;
  readonly bufferMaxSize: number;
  /** Collections of this period go in one report (default: the collection interval). */
  readonly reportIntervalSecs: number;
  /** The agent's own files: the spool (by default) and the cached server-managed config. */
  readonly stateDir: string;
  /** Where reports wait until acknowledged. */
  readonly spoolDir: string;
  readonly spoolMaxBytes: number;
  /** Reports per second while a backlog drains. */
  readonly drainReportsPerSec: number;
  /** Effective: the `tls` field, or an `https://` endpoint. */
  readonly tls: boolean;
  readonly caFile: string | undefined;
  /** Directories the slow loop sizes; undefined: /var/lib/docker where it exists. */
  readonly slowPaths: readonly string[] | undefined;
  readonly slowIntervalSecs: number;
  readonly slowMaxFiles: number;
  readonly slowMaxSecs: number;
  /** `[[checks]]`, validated by each type's schema; empty when none are configured. */
  readonly checks: readonly CheckDefinition[];
  /** Check probes in flight at once, over all checks. */
  readonly checkConcurrency: number;
  /** `auto`: text lines on a terminal, JSON otherwise. */
  readonly logFormat: LogFormat;
  /** Self-update (agent/update/): off without a public key. */
  readonly update: UpdateSettings;
  /** Where other agents reach this one (the server's agent mesh); undefined: the address the server sees. */
  readonly advertiseAddress: string | undefined;
}


/** What agent.toml may hold, in its own (reference) spelling. */
export interface AgentConfigInput {
  agent_id?: string;
  server_endpoint?: string;
  auth_token?: string;
  collection_interval_secs?: number;
  buffer_max_size?: number;
  report_interval_secs?: number;
  state_dir?: string;
  spool_dir?: string;
  spool_max_bytes?: number;
  drain_reports_per_sec?: number;
  tls?: boolean;
  ca_file?: string;
  slow_paths?: string[];
  slow_interval_secs?: number;
  slow_max_files?: number;
  slow_max_secs?: number;
  checks?: unknown[];
  check_concurrency?: number;
  log_format?: LogFormat;
  update_public_key?: string;
  auto_update?: boolean;
  update_check_hours?: number;
  update_url?: string;
  update_trial_secs?: number;
  advertise_address?: string;
}

/** Validates `[[checks]]` tables (agent/checks/definitions.ts); loaded only when a file has checks. */
export type CheckTableValidator = (tables: readonly unknown[]) => { checks: CheckDefinition[]; problems: string[] };

/** Start-up refuses to run on a bad file or flag; this lists every problem, one per line. */
export class AgentConfigError extends Error {
  readonly problems: string[];
  /** `command line` when a flag was wrong: the usage is shown with the problems. */
  readonly source: string;
  constructor(source: string, problems: string[]) {
    super(`invalid agent configuration (${source}):\n  - ${problems.join("\n  - ")}`);
    this.name = "AgentConfigError";
    this.problems = problems;
    this.source = source;
  }
}

export const DEFAULTS = {
  server_endpoint: "http://127.0.0.1:9090",
  collection_interval_secs: 10,
  buffer_max_size: 1000,
  spool_max_bytes: 256 * 2 ** 20,
  drain_reports_per_sec: 10,
  tls: false,
  slow_interval_secs: 300,
  // Docker's directory on a busy host holds a few million entries; a walk at ≈ 100 k
  // lstat/s stays within a minute of one libuv thread.
  slow_max_files: 5_000_000,
  slow_max_secs: 120,
  check_concurrency: 4,
  log_format: "auto",
} as const;

/** Each flag and the field it overrides; flag errors are reported under the flag's name. */
const FLAGS = {
  "server-url": { field: "server_endpoint", type: "string", arg: "URL", help: "server_endpoint: host:port or grpc(s)://host:port (gRPC), http(s)://host:port (the REST port, JSON)" },
  "agent-id": { field: "agent_id", type: "string", arg: "ID", help: "agent_id: this agent's name on the server" },
  token: { field: "auth_token", type: "string", arg: "TOKEN", help: "auth_token: sent as `authorization: Bearer TOKEN`" },
  interval: { field: "collection_interval_secs", type: "number", arg: "SECS", help: "collection_interval_secs: seconds between collections (≥ 0.1)" },
  "buffer-size": { field: "buffer_max_size", type: "number", arg: "N", help: "buffer_max_size: reports kept while the server is unreachable" },
  "report-interval": { field: "report_interval_secs", type: "number", arg: "SECS", help: "report_interval_secs: the collections of this period go in one report" },
  "state-dir": { field: "state_dir", type: "string", arg: "DIR", help: "state_dir: the agent's own files (the spool under it by default)" },
  "spool-dir": { field: "spool_dir", type: "string", arg: "DIR", help: "spool_dir: where reports wait until the server acknowledged them" },
  "spool-max-bytes": { field: "spool_max_bytes", type: "number", arg: "N", help: "spool_max_bytes: bound on the spool; past it the oldest reports are dropped" },
  "drain-rate": { field: "drain_reports_per_sec", type: "number", arg: "N", help: "drain_reports_per_sec: reports per second while a backlog drains" },
  tls: { field: "tls", type: "boolean", arg: "", help: "tls: connect over TLS (implied by https://)" },
  "ca-file": { field: "ca_file", type: "string", arg: "PATH", help: "ca_file: PEM CA bundle that signs the server's certificate" },
  "slow-paths": { field: "slow_paths", type: "list", arg: "DIR,…", help: "slow_paths: directories sized every slow interval (docker.dir_bytes), comma-separated" },
  "slow-interval": { field: "slow_interval_secs", type: "number", arg: "SECS", help: "slow_interval_secs: seconds between two walks of slow_paths" },
  "slow-max-files": { field: "slow_max_files", type: "number", arg: "N", help: "slow_max_files: entries one walk looks at, at most" },
  "slow-max-secs": { field: "slow_max_secs", type: "number", arg: "SECS", help: "slow_max_secs: seconds one walk runs, at most" },
  "check-concurrency": { field: "check_concurrency", type: "number", arg: "N", help: "check_concurrency: check probes in flight at once (an icmp round holds its slot for count × probe_interval_ms)" },
  "log-format": { field: "log_format", type: "string", arg: "FORMAT", help: "log_format: auto (text on a terminal, else JSON), json or text" },
  "advertise-address": { field: "advertise_address", type: "string", arg: "HOST[:PORT]", help: "advertise_address: where other agents reach this one (agent mesh)" },
} as const satisfies Record<string, { field: keyof AgentConfigInput; type: "string" | "number" | "boolean" | "list"; arg: string; help: string }>;

const DEFAULT_TEXT: Record<keyof AgentConfigInput, string> = {
  agent_id: "this host's name",
  server_endpoint: DEFAULTS.server_endpoint,
  auth_token: "none",
  collection_interval_secs: String(DEFAULTS.collection_interval_secs),
  buffer_max_size: String(DEFAULTS.buffer_max_size),
  report_interval_secs: "the collection interval",
  state_dir: "$STATE_DIRECTORY, else /var/lib/tsmon-agent as root, else ~/.local/state/tsmon-agent",
  spool_dir: "STATE_DIR/spool",
  spool_max_bytes: `${DEFAULTS.spool_max_bytes} (256 MiB)`,
  drain_reports_per_sec: String(DEFAULTS.drain_reports_per_sec),
  tls: String(DEFAULTS.tls),
  ca_file: "the system's root certificates",
  slow_paths: "/var/lib/docker where it exists",
  slow_interval_secs: String(DEFAULTS.slow_interval_secs),
  slow_max_files: String(DEFAULTS.slow_max_files),
  slow_max_secs: String(DEFAULTS.slow_max_secs),
  checks: "none",
  check_concurrency: String(DEFAULTS.check_concurrency),
  log_format: DEFAULTS.log_format,
  update_public_key: "none (no self-update)",
  auto_update: String(UPDATE_DEFAULTS.auto_update),
  update_check_hours: String(UPDATE_DEFAULTS.update_check_hours),
  update_url: "the endpoint for http(s)://, else http(s)://HOST:8080",
  update_trial_secs: String(UPDATE_DEFAULTS.update_trial_secs),
  advertise_address: "the address the server sees",
};

export const AGENT_USAGE = [
  "Usage: tsmon-agent [CONFIG] [flags]",
  "",
  "Collects system metrics every interval and reports them over gRPC to a tsmon (or oxmon) server.",
  "CONFIG is an agent.toml file (see config/agent.example.toml); without one the defaults apply.",
  "Every flag overrides the file's field of the same meaning.",
  "",
  ...Object.entries(FLAGS).map(([flag, f]) =>
    `  ${`--${flag}${f.arg ? " " + f.arg : ""}`.padEnd(20)} ${f.help} (default: ${DEFAULT_TEXT[f.field]})`),
  `  ${"--version".padEnd(20)} print the version and exit`,
  `  ${"--help".padEnd(20)} print this help and exit`,
].join("\n");

/** What the command line asks for: the usage text, or a run with this configuration. */
export type AgentCommand = { kind: "help"; usage: string } | { kind: "version" } | { kind: "run"; config: AgentConfig; configFile: string | undefined };

/** Parses `[CONFIG] [flags]`, reads and validates CONFIG, lays `TSMON_AGENT_…` variables of `env` and then the flags over it. */
export async function parseAgentCommand(argv: readonly string[], env: Record<string, string | undefined> = process.env): Promise<AgentCommand> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(Object.entries(FLAGS).map(([flag, f]) => [flag, { type: f.type === "boolean" ? "boolean" : "string" } as const])),
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    });
  } catch (err) {
    // Node's message goes on to explain `--` positionals, which is noise here.
    throw new AgentConfigError("command line", [`${(err as Error).message.split("\n")[0]!.split(". ")[0]} (see --help)`]);
  }
  if (parsed.values.help) return { kind: "help", usage: AGENT_USAGE };
  if (parsed.values.version) return { kind: "version" };
  if (parsed.positionals.length > 1) {
    throw new AgentConfigError("command line", [`expected at most one CONFIG file, got ${parsed.positionals.length}: ${parsed.positionals.join(" ")}`]);
  }
  const configFile = parsed.positionals[0];
  const flags: Record<string, unknown> = {};
  for (const [flag, f] of Object.entries(FLAGS)) {
    const value = (parsed.values as Record<string, string | boolean | undefined>)[flag];
    if (value === undefined) continue;
    if (typeof value === "string" && f.type === "number") flags[flag] = Number(value.trim() === "" ? NaN : value);
    else if (typeof value === "string" && f.type === "list") flags[flag] = value.split(",").map((v) => v.trim()).filter(Boolean);
    else flags[flag] = value;
  }
  return { kind: "run", config: await loadAgentConfig(configFile, flags, env), configFile };
}

/** How each field's environment variable is read: as its flag is, and `checks` as a TOML value. */
const ENV_KINDS: Record<keyof AgentConfigInput, EnvKind> = {
  ...Object.fromEntries(Object.values(FLAGS).map((f) => [f.field, f.type])) as Record<keyof AgentConfigInput, EnvKind>,
  checks: "value",
  update_public_key: "string",
  auto_update: "boolean",
  update_check_hours: "number",
  update_url: "string",
  update_trial_secs: "number",
};

/**
 * Reads CONFIG (when given) and builds the configuration with `flags` (keyed by flag name)
 * on top. Async only to load the checks' schemas (and zod with them) when the file has
 * `[[checks]]`: an agent without checks does not pay zod's few MB of memory.
 */
export async function loadAgentConfig(configFile?: string, flags: Record<string, unknown> = {}, env: Record<string, string | undefined> = {}): Promise<AgentConfig> {
  const fromEnv = agentEnvOverrides(env, ENV_KINDS);
  for (const name of fromEnv.unknown) process.stderr.write(`tsmon-agent: ignoring ${name}: no agent config field of that name (TSMON_AGENT_ + the field, e.g. TSMON_AGENT_SERVER_ENDPOINT)\n`);
  const source = (base: string) => (fromEnv.used.length ? `${base} with ${fromEnv.used.join(", ")} from the environment` : base);
  if (fromEnv.problems.length) throw new AgentConfigError(source(configFile ?? "defaults"), fromEnv.problems);
  const file = configFile ? readAgentToml(configFile) : {};
  const table = typeof file === "object" && file !== null && !Array.isArray(file) && !(file instanceof Date) ? { ...file, ...fromEnv.values } : file;
  const checks = typeof table === "object" && table !== null ? (table as AgentConfigInput).checks : undefined;
  const validateChecks = Array.isArray(checks) && checks.length > 0 ? (await import("./checks/definitions.ts")).validateCheckTables : undefined;
  return buildAgentConfig(table, flags, source(configFile ?? "defaults + flags"), validateChecks);
}

/** The parsed TOML of `configFile`. */
function readAgentToml(configFile: string): unknown {
  let text: string;
  try {
    text = readFileSync(configFile, "utf8");
  } catch (err) {
    throw new AgentConfigError(configFile, [`cannot read the file: ${(err as Error).message}`]);
  }
  try {
    return parseToml(text);
  } catch (err) {
    throw new AgentConfigError(configFile, [tomlSyntaxProblem(err, configFile)]);
  }
}

/**
 * Validates the file's table and the flags (keyed by flag name without dashes), reports
 * every problem of both at once, then fills defaults and freezes.
 */
export function buildAgentConfig(file: unknown, flags: Record<string, unknown> = {}, source = "config", validateChecks?: CheckTableValidator): AgentConfig {
  const problems: string[] = [];
  const merged: Record<string, unknown> = {};
  const table = file ?? {};
  if (typeof table !== "object" || Array.isArray(table) || table instanceof Date) {
    problems.push(`(top level): ${expected("table", table)}`);
  } else {
    for (const [key, value] of Object.entries(table)) {
      if (!Object.hasOwn(FIELDS, key)) {
        problems.push(`${key}: unknown key`);
        continue;
      }
      const problem = FIELDS[key as keyof AgentConfigInput](value);
      if (problem) problems.push(`${key}: ${problem}`);
      else merged[key] = value;
    }
  }
  for (const [flag, value] of Object.entries(flags)) {
    const spec = Object.hasOwn(FLAGS, flag) ? FLAGS[flag as keyof typeof FLAGS] : undefined;
    if (!spec) {
      problems.push(`--${flag}: unknown flag`);
      continue;
    }
    const problem = FIELDS[spec.field](value);
    if (problem) problems.push(`--${flag}: ${problem}`);
    else merged[spec.field] = value;
  }
  // Every field in `merged` passed its check above.
  return finishAgentConfig(merged as AgentConfigInput, problems, source, validateChecks);
}

/** Defaults, the checks that span fields, and the frozen result (or every problem at once). */
function finishAgentConfig(input: AgentConfigInput, problems: string[], source: string, validateChecks: CheckTableValidator | undefined): AgentConfig {
  const endpoint = input.server_endpoint ?? DEFAULTS.server_endpoint;
  const parsedEndpoint = parseEndpoint(endpoint);
  const tls = (input.tls ?? DEFAULTS.tls) || parsedEndpoint?.scheme === "https" || parsedEndpoint?.scheme === "grpcs";
  if (input.ca_file !== undefined && !tls) {
    problems.push("ca_file: set, but TLS is off (set tls = true, pass --tls, or use an https:// endpoint)");
  }
  const agentId = input.agent_id ?? os.hostname();
  if (input.agent_id === undefined && FIELDS.agent_id(agentId) !== undefined) {
    problems.push(`agent_id: the host name "${agentId}" is not a valid agent id; set agent_id or --agent-id`);
  }
  let checks: readonly CheckDefinition[] = [];
  if (input.checks?.length) {
    if (!validateChecks) throw new Error("buildAgentConfig: the file has [[checks]]; pass validateCheckTables from agent/checks/definitions.ts");
    const validated = validateChecks(input.checks);
    problems.push(...validated.problems);
    checks = Object.freeze(validated.checks);
  }
  if (problems.length > 0) throw new AgentConfigError(source, problems);
  const collectionIntervalSecs = input.collection_interval_secs ?? DEFAULTS.collection_interval_secs;
  const scheme = parsedEndpoint!.scheme;
  const stateDir = input.state_dir ?? defaultStateDir();
  const httpBase = `${tls ? "https" : "http"}://${parsedEndpoint!.target}`;
  const transport = scheme === "http" || scheme === "https" ? "http" : "grpc";
  return Object.freeze({
    agentId,
    serverEndpoint: endpoint,
    grpcTarget: parsedEndpoint!.target,
    transport,
    httpBase,
    authToken: input.auth_token,
    collectionIntervalSecs,
    bufferMaxSize: input.buffer_max_size ?? DEFAULTS.buffer_max_size,
    reportIntervalSecs: Math.max(collectionIntervalSecs, input.report_interval_secs ?? collectionIntervalSecs),
    stateDir,
    spoolDir: input.spool_dir ?? path.join(stateDir, "spool"),
    spoolMaxBytes: input.spool_max_bytes ?? DEFAULTS.spool_max_bytes,
    drainReportsPerSec: input.drain_reports_per_sec ?? DEFAULTS.drain_reports_per_sec,
    tls,
    caFile: input.ca_file,
    slowPaths: input.slow_paths ? Object.freeze([...input.slow_paths]) : undefined,
    slowIntervalSecs: input.slow_interval_secs ?? DEFAULTS.slow_interval_secs,
    slowMaxFiles: input.slow_max_files ?? DEFAULTS.slow_max_files,
    slowMaxSecs: input.slow_max_secs ?? DEFAULTS.slow_max_secs,
    checks,
    checkConcurrency: input.check_concurrency ?? DEFAULTS.check_concurrency,
    logFormat: input.log_format ?? DEFAULTS.log_format,
    update: updateSettings(input, { transport, httpBase, tls, target: parsedEndpoint!.target }),
    advertiseAddress: input.advertise_address,
  });
}

/** The PATH the agent looks up helper binaries on (nvidia-smi); the config module is the one reader of process.env. */
export function hostSearchPath(): string {
  return process.env.PATH ?? "";
}
