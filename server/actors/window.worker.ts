import { parentPort, workerData } from "node:worker_threads";
import { expose } from "comlink";
import { crashForTest } from "./crash-for-test.ts";
import { nodeEndpoint } from "./comlink-node.ts";
import { MetricStore } from "../storage/metric-store.ts";
import { PartitionSet } from "../storage/partitions.ts";
import type { WindowWorkerData } from "./messages.ts";
import { AgentWindow } from "./window.ts";

// The shell of one agent-window shard: storage for rebuilds, the core, and comlink.
const settings = workerData as WindowWorkerData;
const store = new MetricStore(new PartitionSet(settings.dataDir));
const window = new AgentWindow({
  readHistory: (agentId, fromMs, toMs) => store.scan(agentId, fromMs, toMs),
  now: Date.now,
  rebuildHorizonMs: settings.rebuildHorizonMs,
});

expose({ handle: window.handle.bind(window), crashForTest }, nodeEndpoint(parentPort!));
