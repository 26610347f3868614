import { createHash } from "node:crypto";
import { globToRegExp } from "../../common/glob.ts";
import { meshChecks, type MeshSettings } from "./mesh.ts";
import type { AgentAddress, AgentSettings, StoredCheck } from "./store.ts";

/** What one agent is sent on WatchAgentConfig (AgentConfigProto). */
export interface EffectiveConfig {
  /** A hash of the rest: equal versions, identical configs. */
  version: string;
  /** `[[checks]]` tables, by name. */
  checks: Record<string, unknown>[];
  /** Undefined: the agent's own interval. */
  collection_interval_secs?: number;
  collectors: Record<string, boolean>;
}

export interface ConfigSources {
  checks: readonly StoredCheck[];
  settings: readonly AgentSettings[];
  addresses: readonly AgentAddress[];
  reachability: MeshSettings;
}

/**
 * The configuration of one agent: the stored checks whose agent_pattern matches it, the
 * mesh checks, and the settings of every matching pattern, the more specific (longer)
 * pattern winning a field both set.
 */
export function effectiveConfig(agentId: string, sources: ConfigSources): EffectiveConfig {
  const checks = [
    ...sources.checks.filter((c) => glob(c.agent_pattern).test(agentId)).map((c) => c.table),
    ...meshChecks(agentId, sources.addresses, sources.reachability),
  ].sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1));
  let collectionIntervalSecs: number | undefined;
  const collectors: Record<string, boolean> = {};
  const matching = sources.settings.filter((s) => glob(s.pattern).test(agentId))
    .sort((a, b) => a.pattern.length - b.pattern.length || (a.pattern < b.pattern ? -1 : 1));
  for (const s of matching) {
    if (s.collection_interval_secs !== undefined) collectionIntervalSecs = s.collection_interval_secs;
    Object.assign(collectors, s.collectors);
  }
  const body = { checks, ...(collectionIntervalSecs !== undefined ? { collection_interval_secs: collectionIntervalSecs } : {}), collectors: sortKeys(collectors) };
  return { version: createHash("sha256").update(JSON.stringify(body)).digest("hex").slice(0, 16), ...body };
}

/*
 * A change recomputes the config of every watching agent against every pattern: the
 * patterns are compiled once, not once per agent. Bounded: the store holds at most
 * 1000 checks and 200 settings patterns, and the cache starts over past that.
 */
const compiled = new Map<string, RegExp>();
function glob(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    if (compiled.size >= 2000) compiled.clear();
    re = globToRegExp(pattern);
    compiled.set(pattern, re);
  }
  return re;
}

function sortKeys(record: Record<string, boolean>): Record<string, boolean> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}
