import { TsmonError, isErrorData } from "../../../common/errors.ts";
import type { AcceptedReport, IngestAccepted, IngestJob, IngestReply, IngestTask, IngestWorkerData } from "../protocol/messages.ts";
import { PoolSupervisor } from "../runtime/pool-supervisor.ts";
import { preciseNow } from "../runtime/precise-clock.ts";
import { TurnBatcher } from "../runtime/turn-batcher.ts";
import type { Supervision } from "../runtime/restart-policy.ts";
import type { ControlStore } from "../../storage/control-store.ts";

export interface IngestPoolOptions extends Supervision {
  threads: number;
  /** Reports waiting for a thread; beyond it, RESOURCE_EXHAUSTED. */
  queue: number;
  workerData: Omit<IngestWorkerData, "samplesWanted">;
  /** Takes the last_seen moves that threads leave to the main thread. */
  registry: Pick<ControlStore, "noteLastSeen">;
}

export type StoredReport = Extract<IngestReply, { type: "stored" }>;

/** Reports that go to a thread as one task, at most (see the TurnBatcher below). */
const REPORTS_PER_TASK = 16;
/** Tasks one thread may work on at once: only full tasks go while one is out, and their
 *  writes share commits (each report is still acknowledged only once durable). */
const TASKS_IN_FLIGHT_PER_THREAD = 4;

/**
 * The ingest actor's pool (supervised, see PoolSupervisor). Reports go in tasks of up to 16,
 * one task out at a time, so a burst costs one worker message per task, not per report. A thread
 * that dies with reports in flight turns them into retryable UNAVAILABLE; more reports
 * waiting than the threads take plus `queue` is RESOURCE_EXHAUSTED.
 */
export class IngestPool {
  private readonly supervisor: PoolSupervisor;
  /** Reports submitted and not yet answered (in the next batch, queued or running). */
  private pending = 0;
  private accepted: (reports: AcceptedReport[]) => void = () => {};
  private nextJob = 0;
  /** [0] is 1 while accepted reports are announced; shared with every thread (IngestWorkerData). */
  private readonly samplesWanted = new Int32Array(new SharedArrayBuffer(4));
  /** Jobs submitted and not yet answered: whether their announcement came, or the reply that
   *  waits for it. The two travel on different ports, whose messages the main thread may
   *  take in either order. */
  private readonly jobs = new Map<number, { announced: boolean; release?: () => void }>();
  private readonly batcher: TurnBatcher<IngestJob, IngestReply>;

  constructor(private readonly options: IngestPoolOptions) {
    this.supervisor = new PoolSupervisor({
      name: "ingest",
      piscina: {
        filename: new URL("./ingest.worker.ts", import.meta.url).href, name: "ingest",
        // No piscina queue limit: submit() bounds the reports waiting (a task carries several).
        maxThreads: options.threads, workerData: { ...options.workerData, samplesWanted: this.samplesWanted } satisfies IngestWorkerData,
        // Several tasks in flight per thread: lmdb-js commits the writes that arrive while
        // a commit is running as one transaction, so they share one fsync.
        concurrentTasksPerWorker: TASKS_IN_FLIGHT_PER_THREAD,
        // An idle thread waits on its message port, not in Atomics.wait: waking it from there
        // cost the main thread ≈ 2 s of every 13 s busy under load (Atomics.notify inside
        // postTask, on two cores); A/B with bench:ingest: ≈ +15–20 % points per CPU-second.
        atomics: "disabled",
      },
      policy: options.policy, onCrashLoop: options.onCrashLoop, onRestart: options.onRestart,
      onMessage: (message) => {
        if ((message as IngestAccepted | undefined)?.type === "accepted") this.announce((message as IngestAccepted).reports);
      },
    });
    void this.supervisor.pool; // start the threads now: ingest is needed from the first report
    // One task out at a time, more only when full (16): while it is out, reports wait here
    // and go on together. A/B with bench:ingest, 1,000 agents, against a task per turn (a
    // third of tasks then carried one report): +6 % points per CPU-second with one task out
    // per thread, +10 % more with one in all (845k → 904k/914k at 256 in flight, 695k →
    // 770k at 64, 522k → 580k at 10,000 agents), ack p99 no worse, alert latency unchanged.
    this.batcher = new TurnBatcher(REPORTS_PER_TASK, (jobs) =>
      this.supervisor.pool.run(jobs, { name: "ingest", transferList: reportBuffers(jobs) }).catch(() => {
        throw new TsmonError("UNAVAILABLE", "the ingest worker stopped before the report was stored; retry", true);
      }), 1);
  }

  get restarts(): number {
    return this.supervisor.restarts;
  }

  /** Reports waiting beyond what the threads are working on. */
  get queueSize(): number {
    return Math.max(0, this.pending - this.capacity);
  }

  /** Reports in flight at most: what the threads work on, plus `queue` waiting. */
  get acceptsAtOnce(): number {
    return this.capacity + this.options.queue;
  }

  private get capacity(): number {
    return this.options.threads * TASKS_IN_FLIGHT_PER_THREAD * REPORTS_PER_TASK;
  }

  get threads(): number {
    return this.supervisor.threads;
  }

  /** Whether accepted reports are announced, with their samples, from the next batch a thread takes on. */
  announceSamples(wanted: boolean): void {
    Atomics.store(this.samplesWanted, 0, wanted ? 1 : 0);
  }

  /** Hears every report that passed validation while announceSamples is on, as its write is in flight (once per batch). */
  onAccepted(listener: (reports: AcceptedReport[]) => void): void {
    this.accepted = listener;
  }

  /** Runs one report; resolves once it is durably stored and (if announced) the onAccepted
   *  listener has had it, throws TsmonError otherwise. `arrivedAt` (preciseNow()) comes back
   *  with the report when it is accepted. */
  submit(task: IngestTask, arrivedAt = preciseNow()): Promise<StoredReport> {
    if (this.supervisor.isClosing) return Promise.reject(new TsmonError("UNAVAILABLE", "server is shutting down; retry against another instance", true));
    if (this.pending >= this.acceptsAtOnce) {
      return Promise.reject(new TsmonError("RESOURCE_EXHAUSTED", "ingest is saturated; keep the report and retry later", true));
    }
    this.pending++;
    const job = this.nextJob++;
    this.jobs.set(job, { announced: false });
    return this.batcher.submit({ task, arrivedAt, job })
      .then((reply) => this.afterAnnouncement(job, reply))
      .then((reply) => {
        const report = stored(reply);
        if (report.lastSeenMs !== undefined) this.options.registry.noteLastSeen(report.agentId, report.lastSeenMs);
        return report;
      })
      .finally(() => {
        this.jobs.delete(job);
        this.pending--;
      });
  }

  private announce(reports: AcceptedReport[]): void {
    try {
      this.accepted(reports);
    } finally {
      for (const { job } of reports) {
        const state = this.jobs.get(job); // none: answered already (refused, or its thread died)
        if (!state) continue;
        state.announced = true;
        state.release?.();
      }
    }
  }

  /** A stored report is acknowledged only after the live feed has had it, so what a client
   *  watches is never behind what the agent was told is stored. The thread posts the
   *  announcement before the reply, so it is on its way. */
  private afterAnnouncement(job: number, reply: IngestReply): IngestReply | Promise<IngestReply> {
    const state = this.jobs.get(job)!;
    if (reply.type !== "stored" || reply.unannounced || state.announced) return reply;
    return new Promise((resolve) => { state.release = () => resolve(reply); });
  }

  crashOneForTest(): Promise<void> {
    return this.supervisor.crashOneForTest();
  }

  /** Waits for in-flight reports to finish, then stops the threads. */
  close(): Promise<void> {
    this.batcher.flush(); // reports still collecting for the next task are in flight too
    return this.supervisor.close(true);
  }
}

/**
 * The buffers of a task's reports, moved to the thread rather than copied: a large report
 * would otherwise be held twice until the main thread's next full collection. Each is a
 * report's own (ownBytes) and read by nobody else once submitted; a stream's declaration
 * stays, the stream sends it with each of its reports.
 */
export function reportBuffers(jobs: IngestJob[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { task } of jobs) {
    const bytes = task.type === "report-proto" ? task.bytes : task.type === "report-columns" ? task.frame : undefined;
    if (bytes && bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) buffers.add(bytes.buffer);
  }
  return [...buffers];
}

function stored(reply: IngestReply): StoredReport {
  if (reply.type === "stored") return reply;
  const e = reply.error;
  throw new TsmonError(isErrorData(e) ? e.code : "INTERNAL", e.message, e.retryable);
}
