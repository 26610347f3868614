import { parentPort, workerData } from "node:worker_threads";
import { compactDay } from "../../storage/compaction.ts";
import { MetricStore } from "../../storage/metric-store.ts";
import { PartitionSet } from "../../storage/partitions.ts";
import type { CompactResult, SealerPass, SealerPassResult, SealerWorkerData, SealResult } from "../protocol/messages.ts";
import { answerCollections } from "../runtime/collect-garbage.ts";

// The thread that compacts fresh data and seals past days, off the main thread: one pass per
// message, answered with what each day's work did.
const settings = workerData as SealerWorkerData;
answerCollections();
const partitions = new PartitionSet(settings.dataDir);
const store = new MetricStore(partitions);

async function runPass(pass: SealerPass): Promise<SealerPassResult> {
  const compacted: CompactResult[] = [];
  for (const day of pass.compact) {
    const started = performance.now();
    try {
      const result = await compactDay(partitions, day);
      if (result.generations) compacted.push({ day, ...result, ms: Math.round(performance.now() - started) });
    } catch (err) {
      compacted.push({ day, error: String((err as Error)?.stack ?? err) });
    }
  }
  const sealed: SealResult[] = [];
  for (const day of pass.seal) {
    const started = performance.now();
    try {
      const { points, bytes, rollupBytes } = await store.seal(day);
      sealed.push({ day, points, bytes, rollupBytes, ms: Math.round(performance.now() - started) });
    } catch (err) {
      sealed.push({ day, error: String((err as Error)?.stack ?? err) });
    }
  }
  return { compacted, sealed };
}

parentPort!.on("message", (pass: SealerPass) => {
  void runPass(pass).then((result) => parentPort!.postMessage(result));
});
