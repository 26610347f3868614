import { parentPort, workerData } from "node:worker_threads";
import { expose } from "comlink";
import { crashForTest } from "./crash-for-test.ts";
import { ControlStore } from "../storage/control-store.ts";
import { nodeEndpoint } from "./comlink-node.ts";
import { RuleEvaluator } from "./evaluator.ts";
import type { EvaluatorWorkerData } from "./messages.ts";
import { shardOf } from "./shard-of.ts";

// The shell of one rule-evaluator shard: the control store (alert state) and the core.
const settings = workerData as EvaluatorWorkerData & { shard: number; shards: number };
const control = new ControlStore(settings.dataDir);
const evaluator = new RuleEvaluator({
  store: control.alerts,
  agents: () => control.listAgents(),
  owns: (agentId) => shardOf(agentId, settings.shards) === settings.shard,
});

expose({ handle: evaluator.handle.bind(evaluator), crashForTest }, nodeEndpoint(parentPort!));
