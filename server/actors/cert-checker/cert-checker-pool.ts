import type { ProbeOutcome } from "../../certs/types.ts";
import type { CertCheckerReply, CertCheckerTask, CertCheckerWorkerData } from "../protocol/messages.ts";
import { PoolSupervisor } from "../runtime/pool-supervisor.ts";
import type { Supervision } from "../runtime/restart-policy.ts";

export interface CertCheckerPoolOptions extends Supervision {
  threads: number;
  /** Probes one thread runs at once (they mostly wait on the network). */
  perThread: number;
  workerData: CertCheckerWorkerData;
}

/** Extra time the pool gives a probe beyond its own timeout before answering for it. */
const BACKSTOP_MS = 2_000;

/**
 * The cert-checker actor's threads (piscina), started with the first check, so a server
 * with no domains runs none. Each thread runs many probes at once (they wait on the
 * network). A probe never throws: a thread that dies becomes an `internal` outcome, and
 * one that does not answer within the probe's timeout (plus a margin) a `timeout` one.
 * (Piscina's abort signal is not used: it would keep a thread to one task at a time.)
 * Supervised like ingest (see PoolSupervisor).
 */
export class CertCheckerPool {
  private readonly supervisor: PoolSupervisor;
  private inFlight = 0;

  constructor(options: CertCheckerPoolOptions) {
    this.supervisor = new PoolSupervisor({
      name: "cert-checker",
      piscina: {
        filename: new URL("./cert-checker.worker.ts", import.meta.url).href, name: "check",
        maxThreads: options.threads, concurrentTasksPerWorker: options.perThread,
        // Probes are async I/O: a thread waiting for its next task must keep its event loop running.
        atomics: "disabled",
        workerData: options.workerData,
      },
      policy: options.policy, onCrashLoop: options.onCrashLoop, onRestart: options.onRestart,
    });
  }

  get restarts(): number {
    return this.supervisor.restarts;
  }

  /** Probes handed to the threads and not yet answered. */
  get depth(): number {
    return this.inFlight;
  }

  get threads(): number {
    return this.supervisor.threads;
  }

  async probe(task: Extract<CertCheckerTask, { type: "probe" }>): Promise<ProbeOutcome> {
    if (this.supervisor.isClosing) return { ok: false, ip: task.ip, error_class: "internal", error: "the server is shutting down" };
    this.inFlight++;
    let timer: NodeJS.Timeout | undefined;
    const backstop = new Promise<ProbeOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, ip: task.ip, error_class: "timeout", error: `the cert-checker thread did not answer within ${task.timeoutMs} ms` }),
        task.timeoutMs + BACKSTOP_MS);
    });
    try {
      const run = this.supervisor.pool.run(task, { name: "check" }).then((reply: CertCheckerReply) => reply.outcome);
      return await Promise.race([run, backstop]);
    } catch (err) {
      return { ok: false, ip: task.ip, error_class: "internal", error: `the cert-checker thread stopped during the check (${(err as Error).message})` };
    } finally {
      clearTimeout(timer);
      this.inFlight--;
    }
  }

  crashOneForTest(): Promise<void> {
    return this.supervisor.crashOneForTest();
  }

  close(): Promise<void> {
    return this.supervisor.close(false);
  }
}
