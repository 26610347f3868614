import { TsmonError, isErrorData } from "../../common/errors.ts";
import type { IngestReply, IngestTask, IngestWorkerData } from "./messages.ts";
import { PoolSupervisor } from "./pool-supervisor.ts";
import type { Supervision } from "./restart-policy.ts";

export interface IngestPoolOptions extends Supervision {
  threads: number;
  /** Reports waiting for a thread; beyond it, RESOURCE_EXHAUSTED. */
  queue: number;
  workerData: IngestWorkerData;
}

export type StoredReport = Extract<IngestReply, { type: "stored" }>;

/** Reports one ingest thread works on at once (each still acknowledged only once durable). */
const REPORTS_IN_FLIGHT_PER_THREAD = 16;

/**
 * The ingest actor's pool (supervised, see PoolSupervisor): a thread that dies with reports
 * in flight turns them into retryable UNAVAILABLE, a full queue into RESOURCE_EXHAUSTED.
 */
export class IngestPool {
  private readonly supervisor: PoolSupervisor;

  constructor(private readonly options: IngestPoolOptions) {
    this.supervisor = new PoolSupervisor({
      name: "ingest",
      piscina: {
        filename: new URL("./ingest.worker.ts", import.meta.url).href, name: "ingest",
        maxThreads: options.threads, maxQueue: options.queue, workerData: options.workerData,
        // Several reports in flight per thread: lmdb-js commits the writes that arrive while
        // a commit is running as one transaction, so they share one fsync.
        concurrentTasksPerWorker: REPORTS_IN_FLIGHT_PER_THREAD,
      },
      policy: options.policy, onCrashLoop: options.onCrashLoop, onRestart: options.onRestart,
    });
    void this.supervisor.pool; // start the threads now: ingest is needed from the first report
  }

  get restarts(): number {
    return this.supervisor.restarts;
  }

  get queueSize(): number {
    return this.supervisor.pool.queueSize;
  }

  get threads(): number {
    return this.supervisor.threads;
  }

  /** Runs one report; resolves once it is durably stored, throws TsmonError otherwise. */
  async submit(task: IngestTask): Promise<StoredReport> {
    if (this.supervisor.isClosing) throw new TsmonError("UNAVAILABLE", "server is shutting down; retry against another instance", true);
    const pool = this.supervisor.pool;
    if (pool.queueSize >= this.options.queue) {
      throw new TsmonError("RESOURCE_EXHAUSTED", "ingest is saturated; keep the report and retry later", true);
    }
    let reply: IngestReply;
    try {
      reply = await pool.run(task, { name: "ingest" });
    } catch (err) {
      if (err instanceof Error && err.message === "Task queue is at limit") {
        throw new TsmonError("RESOURCE_EXHAUSTED", "ingest is saturated; keep the report and retry later", true);
      }
      throw new TsmonError("UNAVAILABLE", "the ingest worker stopped before the report was stored; retry", true);
    }
    if (reply.type === "refused") {
      const e = reply.error;
      throw new TsmonError(isErrorData(e) ? e.code : "INTERNAL", e.message, e.retryable);
    }
    return reply;
  }

  crashOneForTest(): Promise<void> {
    return this.supervisor.crashOneForTest();
  }

  /** Waits for in-flight reports to finish, then stops the threads. */
  close(): Promise<void> {
    return this.supervisor.close(true);
  }
}
