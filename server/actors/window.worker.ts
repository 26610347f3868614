import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { expose } from "comlink";
import { crashForTest, stopThread } from "./thread-exit.ts";
import { nodeEndpoint } from "./comlink-node.ts";
import { MetricStore } from "../storage/metric-store.ts";
import { PartitionSet } from "../storage/partitions.ts";
import { assertNever, type EvaluatorRequest, type WindowFeedMessage, type WindowReplies, type WindowShardRequest, type WindowWorkerData } from "./messages.ts";
import { preciseNow } from "./precise-clock.ts";
import { shardOf } from "./shard-of.ts";
import { AgentWindow } from "./window.ts";
import { countDropped, receiveWindowFeed, releaseHeld } from "./window-feed.ts";
import { logFromWorker } from "./worker-log.ts";

// The shell of one agent-window shard: storage for rebuilds, the core, comlink, the feed of
// accepted reports from the ingest threads, and the ports its reports' observations go out
// on, straight to the evaluator shard of each agent.
const settings = workerData as WindowWorkerData & { shard: number };
const store = new MetricStore(new PartitionSet(settings.dataDir));
const window = new AgentWindow({
  readHistory: (agentId, fromMs, toMs) => store.scan(agentId, fromMs, toMs),
  now: Date.now,
  rebuildHorizonMs: settings.rebuildHorizonMs,
});
const evaluators: (MessagePort | undefined)[] = Array.from({ length: settings.evaluatorShards }, () => undefined);

/*
 * Reports wait while the shard is not ready: it has no rules yet, or no port to some
 * evaluator shard (this thread or that one just restarted, and the main thread is still
 * wiring them). Applied earlier, their observations would be lost: the rules would see the
 * samples once, with nothing to send them to.
 */
let hasRules = false;
const waiting: WindowFeedMessage[] = [];
let droppedWaiting = 0;

function ready(): boolean {
  return hasRules && evaluators.every((port) => port !== undefined);
}

/** Applies a report batch, or holds it until the shard is ready (true: it still counts as waiting). */
function take(message: WindowFeedMessage): boolean {
  if (!ready()) {
    if (waiting.length < settings.windowFeed.maxDepth) {
      waiting.push(message);
      return true;
    }
    countDropped(settings.windowFeed, settings.shard, message.reports.length);
    if (droppedWaiting++ % 1000 === 0) {
      logFromWorker(40, "agent window not wired to its rule evaluators yet and its queue is full: reports dropped (each agent's next report reads storage again)", { dropped: droppedWaiting });
    }
    return false;
  }
  try {
    applyReports(message);
  } catch (err) {
    // One bad report must not end the shard (and drop every agent's window with it).
    logFromWorker(50, "applying a batch of reports to the agent window failed", { err });
  }
  return false;
}

function applyWaiting(): void {
  if (!ready()) return;
  const held = waiting.splice(0);
  try {
    for (const message of held) take(message);
  } finally {
    releaseHeld(settings.windowFeed, settings.shard, held.length);
  }
}

/** Only while ready: every evaluator shard has a port. */
function applyReports({ reports }: WindowFeedMessage): void {
  for (const report of reports) {
    // The core ignores `times`; it passes through to the evaluator.
    const { observations } = window.handle({ ...report, type: "samples" });
    if (observations.length === 0) continue;
    const observe: EvaluatorRequest = { type: "observe", agentId: report.agentId, observations, times: { ...report.times, appliedAt: preciseNow() } };
    evaluators[shardOf(report.agentId, evaluators.length)]!.postMessage(observe);
  }
}

receiveWindowFeed(settings.windowFeed, settings.shard, take);

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
      applyWaiting();
      return { type: "connected" };
    }
    case "rules": {
      const reply = window.handle(msg);
      hasRules = true;
      applyWaiting();
      return reply;
    }
    case "latest": case "stats":
      return window.handle(msg);
    default:
      return assertNever(msg);
  }
}

expose({ handle, crashForTest, stopThread }, nodeEndpoint(parentPort!));
