import type { SystemInfo } from "../../common/metrics.ts";
import type { AgentRecord } from "../storage/control-store.ts";

/** What a stored report tells the agent registry. */
export interface RegistryNews {
  seenMs: number;
  systemInfo: SystemInfo | undefined;
  droppedBatches: number;
}

/**
 * Whether a report must reach the registry before it is acknowledged: a new agent, new system
 * info, dropped batches to count (once: the agent stops resending them on the ack), or a
 * report older than the agent's first. Anything else only moves last_seen forward, which the
 * main thread writes a moment later for many reports at once (LastSeenWriter).
 */
export function mustRecordNow(prev: AgentRecord | undefined, news: RegistryNews): boolean {
  if (!prev) return true;
  if (news.droppedBatches > 0 || news.seenMs < prev.first_seen) return true;
  return news.systemInfo !== undefined && !sameSystemInfo(prev.system_info, news.systemInfo);
}

function sameSystemInfo(a: SystemInfo | undefined, b: SystemInfo): boolean {
  if (!a) return false;
  const keys = Object.keys(b) as (keyof SystemInfo)[];
  return keys.length === Object.keys(a).length && keys.every((k) => a[k] === b[k]);
}
