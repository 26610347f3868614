import type { CheckEvent } from "../../common/check-events.ts";
import type { MetricPoint } from "../../common/metrics.ts";
import type { Logger } from "../log.ts";
import { createCheck, type CheckDefinition } from "./definitions.ts";
import { noteIcmpFallback } from "./icmp.ts";
import { CheckResults, type CheckState } from "./results.ts";
import { CheckScheduler, type SchedulerClock } from "./scheduler.ts";

export interface RunningChecks {
  /** The newest samples of each check since the last call. */
  drain(): MetricPoint[];
  /** The check events (first result, down with reason, up, traced paths) since the last call. */
  drainEvents(): CheckEvent[];
  state(name: string): CheckState | undefined;
  /** Traces the path to a check's host now, `detail` on the event; false without such a check (or with traces enough running). */
  traceNow(name: string, detail: string): boolean;
  stop(): Promise<void>;
}

/** Starts probing every configured check on its own interval; results wait for drain(). */
export function startChecks(definitions: readonly CheckDefinition[], log: Logger, options: { clock?: SchedulerClock; maxConcurrent?: number } = {}): RunningChecks {
  const results = new CheckResults(log);
  const scheduler = new CheckScheduler(
    definitions.map((definition) => ({ definition, check: createCheck(definition) })),
    {
      ...options,
      onResult: (def, result, atMs) => results.record(def, result, atMs),
      onTraceroute: (def, hops, atMs, detail) => results.recordTraceroute(def, hops, atMs, detail),
      onTracerouteFailed: (def, message) => log.warn({ check: def.name }, `traceroute for check ${def.name} failed: ${message}`),
    },
  );
  noteIcmpFallback(definitions, log);
  scheduler.start();
  log.info({ checks: definitions.map((d) => `${d.name} (${d.type} ${d.label} every ${d.interval_secs} s)`) }, "checks started");
  return {
    drain: () => results.drain(),
    drainEvents: () => results.drainEvents(),
    state: (name) => results.state(name),
    traceNow: (name, detail) => scheduler.traceNow(name, detail),
    stop: () => scheduler.stop(),
  };
}
