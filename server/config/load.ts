import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { TsmonError } from "../../common/errors.ts";
import { tomlSyntaxProblem } from "../../common/toml-syntax.ts";
import { validateChannel } from "../notify/channels/registry.ts";
import { silenceWindowProblems } from "../notify/silence-check.ts";
import { envOverrides, overlay } from "./env.ts";
import { formatIssues } from "./issues.ts";
import { serverConfigSchema, type RawServerConfig, type ServerConfigInput } from "./schema.ts";


/** The validated, defaulted, frozen server configuration; `data_dir` is absolute. */
export type ServerConfig = DeepReadonly<RawServerConfig>;

type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[]
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** Start-up refuses to run on a bad file; this error lists every problem, one per line. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`invalid configuration in ${source}:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Validates an already-parsed config object; relative `data_dir` is taken from `baseDir`. */
export function buildServerConfig(input: ServerConfigInput | unknown, source = "config", baseDir = process.cwd()): ServerConfig {
  const result = serverConfigSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  const cfg = result.data;
  // Each channel table is checked by its own plugin's schema.
  const problems = cfg.notification.channels.flatMap((channel, i) => {
    try {
      validateChannel(channel, `notification.channels.${i}`);
      return [];
    } catch (err) {
      return err instanceof TsmonError ? err.message.split("; ") : [String(err)];
    }
  });
  problems.push(...cfg.notification.silence_windows.flatMap((w, i) =>
    silenceWindowProblems(w).map((p) => `notification.silence_windows.${i}.${p.field}: ${p.message}`)));
  if (problems.length) throw new ConfigError(source, problems);
  cfg.data_dir = path.resolve(baseDir, cfg.data_dir);
  return deepFreeze(cfg);
}

export interface LoadOptions {
  /** Where `TSMON_…` overrides are read (server/config/env.ts); the process's environment by default. */
  env?: Record<string, string | undefined>;
  /** Told about `TSMON_` variables that name no field; stderr by default. */
  warn?: (message: string) => void;
}

/**
 * Reads and validates a TOML file (with no path, the embedded defaults), with the
 * environment's `TSMON_…` variables laid over it.
 */
export function loadServerConfig(file?: string, options: LoadOptions = {}): ServerConfig {
  const env = options.env ?? process.env;
  const warn = options.warn ?? ((message: string) => process.stderr.write(`tsmon-server: ${message}\n`));
  const fromEnv = envOverrides(serverConfigSchema, env);
  for (const name of fromEnv.unknown) warn(`ignoring ${name}: no server config field of that name (TSMON_ + the field's path, sections joined by __, e.g. TSMON_AUTH__JWT_SECRET)`);
  const source = (base: string) => (fromEnv.used.length ? `${base} with ${fromEnv.used.join(", ")} from the environment` : base);
  if (fromEnv.problems.length) throw new ConfigError(source(file ?? "embedded defaults"), fromEnv.problems);
  return buildServerConfig(overlay(readServerToml(file), fromEnv.values), source(file ?? "embedded defaults"));
}

/** The file's table, or {} without a file. */
function readServerToml(file: string | undefined): unknown {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  // An empty file is a mistake (a truncated copy, the wrong path), not a wish for defaults.
  if (text.trim() === "") throw new ConfigError(file, ["the file is empty: copy config/server.example.toml, or start without a file to run on the embedded defaults"]);
  try {
    return parseToml(text);
  } catch (err) {
    throw new ConfigError(file, [tomlSyntaxProblem(err, file)]);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
