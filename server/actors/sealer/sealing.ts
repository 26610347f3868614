import type { Worker } from "node:worker_threads";
import { spawnWorker } from "../runtime/spawn-worker.ts";
import type { SealerPass, SealerPassResult, SealerWorkerData } from "../protocol/messages.ts";
import type { Logger } from "../../log.ts";
import { DAY_MS, dayStartMs, expiredDays } from "../../storage/days.ts";
import type { Lease } from "../../storage/lease.ts";
import { LATE_AFTER_MS, type PartitionSet } from "../../storage/partitions.ts";

/** A day is sealed this long after its end (late reports are rare by then; they are folded in later). */
const SEAL_AFTER_MS = 2 * LATE_AFTER_MS;

/** Days with unsealed data old enough to seal (ended more than SEAL_AFTER_MS ago), and not about to be deleted by retention. */
export function daysToSeal(unsealedDays: readonly string[], nowMs: number, retentionDays: number): string[] {
  const expired = new Set(expiredDays(unsealedDays, nowMs, retentionDays));
  return unsealedDays.filter((day) => !expired.has(day) && dayStartMs(day) + DAY_MS + SEAL_AFTER_MS < nowMs);
}

/**
 * Compacts fresh data into hour chunks and seals past days, in one thread of one process
 * per host (lease "sealer"), a pass every `everyMs`. A pass still running when the next is
 * due keeps the lease renewed; a process that loses the lease stops its thread (a pass cut
 * short loses nothing: raw data is deleted only after its compacted or sealed copy is durable).
 */
export function startSealing(deps: { partitions: PartitionSet; dataDir: string; retentionDays: number; lease: Lease; log: Logger; everyMs: number }): { stop(): Promise<void>; pass(): Promise<void> } {
  let running: Promise<void> | undefined;
  let worker: Worker | undefined;
  let stopped = false;
  const stopWorker = async () => {
    const w = worker;
    worker = undefined;
    await w?.terminate();
  };
  const runPass = (pass: SealerPass) => {
    worker ??= spawnWorker(new URL("./sealer.worker.ts", import.meta.url), { workerData: { dataDir: deps.dataDir } satisfies SealerWorkerData });
    return resultOf(worker, pass).then(
      ({ compacted, sealed }) => {
        for (const r of compacted) {
          if ("error" in r) deps.log.error({ day: r.day, err: r.error }, "compacting fresh data failed; will retry");
          else deps.log.debug(r, "compacted fresh data");
        }
        for (const r of sealed) {
          if ("error" in r) deps.log.error({ day: r.day, err: r.error }, "sealing a day failed; will retry");
          else deps.log.info({ ...r, bytes_per_point: r.points ? +(r.bytes / r.points).toFixed(3) : null }, "sealed a day");
        }
      },
      async (err) => {
        deps.log.error({ err }, "sealer thread failed; a new one runs the next pass");
        await stopWorker();
      },
    );
  };
  const tick = async () => {
    if (stopped) return;
    const held = await deps.lease.acquire();
    if (!held) {
      if (worker) await stopWorker();
      return;
    }
    if (running) return;
    deps.partitions.removeAbandonedDrafts();
    const pass = { compact: deps.partitions.files.rawDays(), seal: daysToSeal(deps.partitions.files.unsealedDays(), Date.now(), deps.retentionDays) };
    if (!pass.compact.length && !pass.seal.length) return;
    running = runPass(pass).finally(() => { running = undefined; });
    await running;
  };
  const timer = setInterval(() => void tick(), deps.everyMs).unref();
  void tick();
  return {
    /** Runs a pass now (or waits for the one under way); for shutdown and tests. */
    async pass() {
      await running;
      await tick();
    },
    async stop() {
      clearInterval(timer);
      // What arrived last is compacted before the process goes: the next start need not.
      await running;
      if (!stopped && worker) await tick().catch(() => undefined);
      stopped = true;
      await stopWorker();
      await deps.lease.release();
    },
  };
}

function resultOf(worker: Worker, pass: SealerPass): Promise<SealerPassResult> {
  return new Promise((resolve, reject) => {
    const cleanup = () => { worker.off("message", onMessage); worker.off("error", onError); worker.off("exit", onExit); };
    const onMessage = (result: SealerPassResult) => { cleanup(); resolve(result); };
    const onError = (err: Error) => { cleanup(); reject(err); };
    const onExit = (code: number) => { cleanup(); reject(new Error(`sealer thread exited with ${code} before reporting`)); };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    worker.postMessage(pass);
  });
}
