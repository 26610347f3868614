import { parentPort } from "node:worker_threads";
import { workerData } from "piscina";
import { ControlStore } from "../../storage/control-store.ts";
import { MetricStore } from "../../storage/metric-store.ts";
import { PartitionSet } from "../../storage/partitions.ts";
import { ingestReport, type IngestDeps } from "./ingest.ts";
import type { AcceptedReport, IngestAccepted, IngestBatch, IngestReply, IngestWorkerData, WindowReport } from "../protocol/messages.ts";
import { preciseNow } from "../runtime/precise-clock.ts";
import { answerCollections } from "../runtime/collect-garbage.ts";
import { remoteWriteForward } from "../../remote-write/ingest-hook.ts";
import { WindowFeedSender } from "../window/window-feed.ts";

// The shell of the ingest actor: opens storage once per thread, then runs the core per task.
const settings = workerData as IngestWorkerData;
answerCollections();
const deps: IngestDeps = {
  store: new MetricStore(new PartitionSet(settings.dataDir, settings.retentionDays)),
  control: new ControlStore(settings.dataDir),
  retentionDays: settings.retentionDays,
  requireAgentAuth: settings.requireAgentAuth,
  peers: settings.peers,
  now: Date.now,
  forward: remoteWriteForward(settings.dataDir, settings.remoteWrite === true),
};

export { crashForTest } from "../runtime/thread-exit.ts";

const windowFeed = new WindowFeedSender(settings.windowFeed);

/** The reports of a batch run side by side, so their writes share a commit and its fsync.
 *  Those accepted go on together, to their agent-window shards and, while a live client
 *  watches, to the main thread (the live feed; an agent's acknowledgement then waits for
 *  it): a batch's reports are accepted in one synchronous run (before the writes' first
 *  await), so this is one message per batch and destination. */
export function ingest(batch: IngestBatch): Promise<IngestReply[]> {
  // lmdb-js renews a thread's read snapshot only on a later timer tick; a busy ingest thread
  // must still see a token revoked, or a report stored by another instance, a moment ago.
  // Once per batch: its reports are checked in one synchronous run.
  deps.control.env.resetReadTxn();
  if (deps.peers) deps.store.renewReads();
  const withSamples = Atomics.load(settings.samplesWanted, 0) === 1;
  const accepted: AcceptedReport[] = [];
  const toWindow: WindowReport[] = [];
  const replies = Promise.all(batch.map(({ task, arrivedAt, job }) => ingestReport(task, deps, (report) => {
    toWindow.push({ ...report, times: { arrivedAt, acceptedAt: preciseNow() } });
    if (withSamples) accepted.push({ agentId: report.agentId, samples: report.samples, job });
  })));
  if (toWindow.length) windowFeed.send(toWindow, replies);
  if (accepted.length) parentPort!.postMessage({ type: "accepted", reports: accepted } satisfies IngestAccepted);
  return withSamples ? replies : replies.then(unannounced);
}

function unannounced(replies: IngestReply[]): IngestReply[] {
  for (const reply of replies) if (reply.type === "stored") reply.unannounced = true;
  return replies;
}
