import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { expose } from "comlink";
import { crashForTest, stopThread } from "./thread-exit.ts";
import { nodeEndpoint } from "./comlink-node.ts";
import { MetricStore } from "../storage/metric-store.ts";
import { PartitionSet } from "../storage/partitions.ts";
import { assertNever, type EvaluatorRequest, type WindowReplies, type WindowShardRequest, type WindowWorkerData } from "./messages.ts";
import { preciseNow } from "./precise-clock.ts";
import { shardOf } from "./shard-of.ts";
import { AgentWindow } from "./window.ts";

// The shell of one agent-window shard: storage for rebuilds, the core, comlink, and the ports
// its reports' observations go out on, straight to the evaluator shard of each agent.
const settings = workerData as WindowWorkerData;
const store = new MetricStore(new PartitionSet(settings.dataDir));
const window = new AgentWindow({
  readHistory: (agentId, fromMs, toMs) => store.scan(agentId, fromMs, toMs),
  now: Date.now,
  rebuildHorizonMs: settings.rebuildHorizonMs,
});
const evaluators: (MessagePort | undefined)[] = Array.from({ length: settings.evaluatorShards }, () => undefined);

function handle<T extends WindowShardRequest>(msg: T): WindowReplies[T["type"]];
function handle(msg: WindowShardRequest): WindowReplies[WindowShardRequest["type"]] {
  switch (msg.type) {
    case "samples-batch": {
      const undelivered: number[] = [];
      msg.reports.forEach((report, i) => {
        // The core ignores `times`; it passes through to the evaluator.
        const { observations } = window.handle({ ...report, type: "samples" });
        if (observations.length === 0) return;
        const port = evaluators[shardOf(report.agentId, evaluators.length)];
        if (!port) {
          undelivered.push(i);
          return;
        }
        const observe: EvaluatorRequest = { type: "observe", agentId: report.agentId, observations, times: { ...report.times, appliedAt: preciseNow() } };
        port.postMessage(observe);
      });
      return { type: "applied-batch", undelivered };
    }
    case "evaluator-port": {
      const { shard, port } = msg;
      evaluators[shard]?.close();
      evaluators[shard] = port;
      // Closed from the other side (the evaluator took a newer port, or died): what would be
      // posted on it is counted as undelivered until the new port arrives.
      port.once("close", () => { if (evaluators[shard] === port) evaluators[shard] = undefined; });
      return { type: "connected" };
    }
    case "latest": case "rules": case "stats":
      return window.handle(msg);
    default:
      return assertNever(msg);
  }
}

expose({ handle, crashForTest, stopThread }, nodeEndpoint(parentPort!));
