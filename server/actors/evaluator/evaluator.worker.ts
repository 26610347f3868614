import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { expose } from "comlink";
import { crashForTest, stopThread } from "../runtime/thread-exit.ts";
import { ControlStore } from "../../storage/control-store.ts";
import { nodeEndpoint } from "../runtime/comlink-node.ts";
import { RuleEvaluator } from "./evaluator.ts";
import { assertNever } from "../../../common/assert-never.ts";
import { type EvaluatorReplies, type EvaluatorRequest, type EvaluatorShardRequest, type EvaluatorWorkerData, type ReportEvents } from "../protocol/messages.ts";
import { shardOf } from "../runtime/shard-of.ts";
import { logFromWorker } from "../runtime/worker-log.ts";
import { answerCollections } from "../runtime/collect-garbage.ts";

// The shell of one rule-evaluator shard: the control store (alert state) and the core; the
// window shards' observations come in on ports of their own, and the events they cause go
// out to the main thread on another.
const settings = workerData as EvaluatorWorkerData & { shard: number; shards: number };
answerCollections();
const control = new ControlStore(settings.dataDir);
const evaluator = new RuleEvaluator({
  store: control.alerts,
  agents: () => control.listAgents(),
  owns: (agentId) => shardOf(agentId, settings.shards) === settings.shard,
  voterFacts: (check, agentId) => control.checkEvents.facts(check, agentId),
});
const windows = new Map<number, MessagePort>();
let events: MessagePort | undefined;

async function observe(msg: Extract<EvaluatorRequest, { type: "observe" }>): Promise<void> {
  const reply = await evaluator.handle(msg);
  if (reply.events.length === 0) return;
  if (!events) {
    // Only while the shard is being wired: the events are stored (history, the notifier's outbox), not on the live feed.
    logFromWorker(40, "rule-evaluator: events stored but not sent to the main thread (not wired yet)", { events: reply.events.length });
    return;
  }
  const message: ReportEvents = { type: "report-events", events: reply.events, times: msg.times };
  events.postMessage(message);
}

function handle<T extends EvaluatorShardRequest>(msg: T): Promise<EvaluatorReplies[T["type"]]> | EvaluatorReplies[T["type"]];
function handle(msg: EvaluatorShardRequest): Promise<EvaluatorReplies[EvaluatorShardRequest["type"]]> | EvaluatorReplies[EvaluatorShardRequest["type"]] {
  switch (msg.type) {
    case "window-port":
      windows.get(msg.shard)?.close();
      windows.set(msg.shard, msg.port);
      // An observation that fails here (a store error) is lost like one sent to a dead shard:
      // the next report of the agent observes the same condition again.
      msg.port.on("message", (m: EvaluatorRequest) => {
        if (m.type === "observe") observe(m).catch((err: unknown) => logFromWorker(50, "rule-evaluator: observing a report failed", { err }));
      });
      return { type: "connected" };
    case "events-port":
      events?.close();
      events = msg.port;
      return { type: "connected" };
    case "rules": case "tick":
      return evaluator.handle(msg);
    default:
      return assertNever(msg);
  }
}

expose({ handle, crashForTest, stopThread }, nodeEndpoint(parentPort!));
