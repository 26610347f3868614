import type { MetricBatch, MetricPoint, SystemInfo } from "../common/metrics.ts";
import type { Collector } from "./collectors/collector.ts";

export interface CollectOptions {
  agentId: string;
  timestampMs: number;
  systemInfo?: SystemInfo | undefined;
  /** A collector slower than this is left out of the batch (default 5000 ms). */
  timeoutMs?: number;
  /** Told about every collector that threw or timed out; the batch goes on without it. */
  onError: (collector: string, error: unknown) => void;
  /** Told about every collector that succeeded (to log recoveries). */
  onSuccess?: (collector: string) => void;
}

/**
 * Runs every collector in parallel into one batch; all points carry the collection
 * timestamp. A failing collector costs its own points only. Undefined when no collector
 * produced anything (the server refuses empty batches).
 */
export async function collectBatch(collectors: readonly Collector[], options: CollectOptions): Promise<MetricBatch | undefined> {
  const { timestampMs } = options;
  const timeoutMs = options.timeoutMs ?? 5000;
  const results = await Promise.all(collectors.map(async (collector) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result within ${timeoutMs} ms`)), timeoutMs);
      });
      const points = await Promise.race([Promise.resolve().then(() => collector.collect(timestampMs)), timeout]);
      options.onSuccess?.(collector.name);
      return points;
    } catch (err) {
      options.onError(collector.name, err);
      return [];
    } finally {
      clearTimeout(timer);
    }
  }));
  const points: MetricPoint[] = [];
  for (const list of results) {
    for (const p of list) points.push(p.timestampMs === timestampMs ? p : { ...p, timestampMs });
  }
  if (points.length === 0) return undefined;
  const batch: MetricBatch = { agentId: options.agentId, timestampMs, points };
  if (options.systemInfo) batch.systemInfo = options.systemInfo;
  return batch;
}
