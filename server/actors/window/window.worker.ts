import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { expose } from "comlink";
import { crashForTest, stopThread } from "../runtime/thread-exit.ts";
import { nodeEndpoint } from "../runtime/comlink-node.ts";
import { MetricStore } from "../../storage/metric-store.ts";
import { PartitionSet } from "../../storage/partitions.ts";
import { assertNever } from "../../../common/assert-never.ts";
import { type EvaluatorRequest, type WindowFeedMessage, type WindowReplies, type WindowShardRequest, type WindowWorkerData } from "../protocol/messages.ts";
import { preciseNow } from "../runtime/precise-clock.ts";
import { shardOf } from "../runtime/shard-of.ts";
import { AgentWindow } from "./window.ts";
import { receiveWindowFeed } from "./window-feed.ts";
import { WindowInbox } from "./window-inbox.ts";
import { logFromWorker } from "../runtime/worker-log.ts";
import { answerCollections } from "../runtime/collect-garbage.ts";

// The shell of one agent-window shard: storage for rebuilds, the core, comlink, the feed of
// accepted reports from the ingest threads, and the ports its reports' observations go out
// on, straight to the evaluator shard of each agent.
const settings = workerData as WindowWorkerData & { shard: number };
answerCollections();
const store = new MetricStore(new PartitionSet(settings.dataDir));
const window = new AgentWindow({
  // Fresh reads: several reports can be applied in one turn, and a report stored (or
  // dropped here) since the last must be found.
  readHistory: (agentId, fromMs, toMs) => {
    store.renewReads();
    return store.scan(agentId, fromMs, toMs);
  },
  now: Date.now,
  rebuildHorizonMs: settings.rebuildHorizonMs,
});
const evaluators: (MessagePort | undefined)[] = Array.from({ length: settings.evaluatorShards }, () => undefined);

let hasRules = false;
const inbox = new WindowInbox({
  feed: settings.windowFeed,
  shard: settings.shard,
  ready: () => hasRules && evaluators.every((port) => port !== undefined),
  apply: applyReports,
  log: logFromWorker,
});

/** Only while ready: every evaluator shard has a port. */
function applyReports({ reports, droppedBefore }: WindowFeedMessage): void {
  for (const report of reports) {
    // The core ignores `times`; it passes through to the evaluator.
    const { observations } = window.handle({ ...report, type: "samples", droppedBefore });
    if (observations.length === 0) continue;
    const observe: EvaluatorRequest = { type: "observe", agentId: report.agentId, observations, times: { ...report.times, appliedAt: preciseNow() } };
    evaluators[shardOf(report.agentId, evaluators.length)]!.postMessage(observe);
  }
}

receiveWindowFeed(settings.windowFeed, settings.shard, (message) => inbox.take(message));

function handle<T extends WindowShardRequest>(msg: T): WindowReplies[T["type"]];
function handle(msg: WindowShardRequest): WindowReplies[WindowShardRequest["type"]] {
  switch (msg.type) {
    case "evaluator-port": {
      const { shard, port } = msg;
      evaluators[shard]?.close();
      evaluators[shard] = port;
      // Closed from the other side (the evaluator took a newer port, or died): reports wait
      // until the new port arrives.
      port.once("close", () => { if (evaluators[shard] === port) evaluators[shard] = undefined; });
      inbox.release();
      return { type: "connected" };
    }
    case "rules": {
      const reply = window.handle(msg);
      hasRules = true;
      inbox.release();
      return reply;
    }
    case "latest": case "stats":
      return window.handle(msg);
    default:
      return assertNever(msg);
  }
}

expose({ handle, crashForTest, stopThread }, nodeEndpoint(parentPort!));
