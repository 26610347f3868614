import type { SampleBlock } from "../../common/series-text.ts";
import { RemoteWriteQueue } from "./queue.ts";

/** Puts an accepted report on the remote-write queue; resolves once that is durable. */
export type Forward = (agentId: string, samples: SampleBlock) => Promise<void>;

/**
 * The ingest side of remote_write, for one ingest thread: with receivers configured, every
 * accepted report is appended to the durable queue side by side with its metric write, and
 * the agent's acknowledgement waits for both (ingest.ts). Without receivers there is no hook
 * at all, so ingest's hot path pays one `undefined` check.
 */
export function remoteWriteForward(dataDir: string, enabled: boolean): Forward | undefined {
  if (!enabled) return undefined;
  const queue = new RemoteWriteQueue(dataDir);
  return (agentId, samples) => queue.append(agentId, samples);
}
