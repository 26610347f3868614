import type { Worker } from "node:worker_threads";
import { spawnWorker } from "../runtime/spawn-worker.ts";
import type { SealResult, SealerWorkerData } from "../protocol/messages.ts";
import type { Logger } from "../../log.ts";
import { DAY_MS, dayStartMs, expiredDays } from "../../storage/days.ts";
import type { Lease } from "../../storage/lease.ts";
import { LATE_AFTER_MS, type PartitionSet } from "../../storage/partitions.ts";

/** A day is sealed this long after its end (late reports are rare by then; they are folded in later). */
const SEAL_AFTER_MS = 2 * LATE_AFTER_MS;

/** Days with raw data old enough to seal (ended more than SEAL_AFTER_MS ago), and not about to be deleted by retention. */
export function daysToSeal(rawDays: readonly string[], nowMs: number, retentionDays: number): string[] {
  const expired = new Set(expiredDays(rawDays, nowMs, retentionDays));
  return rawDays.filter((day) => !expired.has(day) && dayStartMs(day) + DAY_MS + SEAL_AFTER_MS < nowMs);
}

/**
 * Seals past days in a worker thread, once per host (lease "sealer"), every `everyMs`.
 * Sealing reads a whole day and compresses it: it must not hold the main thread.
 */
export function startSealing(deps: { partitions: PartitionSet; dataDir: string; retentionDays: number; lease: Lease; log: Logger; everyMs: number }): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let worker: Worker | undefined;
  let stopped = false;
  const pass = async () => {
    if (running || stopped || !(await deps.lease.acquire())) return;
    deps.partitions.removeAbandonedDrafts();
    const days = daysToSeal(deps.partitions.rawDays(), Date.now(), deps.retentionDays);
    if (!days.length) return;
    worker = spawnWorker(new URL("./sealer.worker.ts", import.meta.url), { workerData: { dataDir: deps.dataDir, days } satisfies SealerWorkerData });
    running = resultsOf(worker).then(
      (results) => {
        for (const r of results) {
          if ("error" in r) deps.log.error({ day: r.day, err: r.error }, "sealing a day failed; will retry");
          else deps.log.info({ ...r, bytes_per_point: r.points ? +(r.bytes / r.points).toFixed(3) : null }, "sealed a day");
        }
      },
      (err) => deps.log.error({ err }, "sealing pass failed; will retry"),
    ).finally(() => { running = undefined; worker = undefined; });
  };
  const timer = setInterval(() => void pass(), deps.everyMs).unref();
  void pass();
  return {
    // A seal stopped half-way loses nothing: raw data is deleted only after its sealed copy is in place.
    async stop() {
      stopped = true;
      clearInterval(timer);
      await worker?.terminate();
      await running;
      await deps.lease.release();
    },
  };
}

function resultsOf(worker: Worker): Promise<SealResult[]> {
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`sealer thread exited with ${code} before reporting`)));
  });
}
