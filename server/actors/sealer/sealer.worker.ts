import { parentPort, workerData } from "node:worker_threads";
import { MetricStore } from "../../storage/metric-store.ts";
import { PartitionSet } from "../../storage/partitions.ts";
import type { SealerWorkerData, SealResult } from "../protocol/messages.ts";

// One sealing pass off the main thread: seal each day asked for, report, and exit.
const settings = workerData as SealerWorkerData;
const partitions = new PartitionSet(settings.dataDir);
const store = new MetricStore(partitions);
const results: SealResult[] = [];
for (const day of settings.days) {
  const started = performance.now();
  try {
    const { points, bytes, rollupBytes } = await store.seal(day);
    results.push({ day, points, bytes, rollupBytes, ms: Math.round(performance.now() - started) });
  } catch (err) {
    results.push({ day, error: String((err as Error)?.stack ?? err) });
  }
}
await partitions.closeAll();
parentPort!.postMessage(results);
