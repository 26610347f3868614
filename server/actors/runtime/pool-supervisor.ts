import { Piscina } from "piscina";
import { onCrash, type Supervision } from "./restart-policy.ts";

export interface PoolSupervisorOptions extends Supervision {
  /** Actor name for logs and crash-loop reasons. */
  name: string;
  /** The piscina options of one pool (minThreads = maxThreads = `threads`). */
  piscina: ConstructorParameters<typeof Piscina>[0] & { maxThreads: number };
  /** Messages a thread posts on its parentPort, outside any task's reply. */
  onMessage?: (message: unknown) => void;
}

/**
 * Supervision of a stateless piscina pool. Piscina replaces a dead thread and rejects its
 * in-flight tasks; this counts restarts, reports a crash loop (the process then stops so
 * PM2 restarts it), and — since piscina does not respawn a thread that dies while
 * starting — replaces a pool still short of threads after the backoff (its queued tasks
 * fail, to be retried by their callers).
 */
export class PoolSupervisor {
  restarts = 0;
  private current?: Piscina;
  private crashes: number[] = [];
  private closing = false;
  private replaceTimer?: NodeJS.Timeout;

  constructor(private readonly options: PoolSupervisorOptions) {}

  /** The pool, started on first use. */
  get pool(): Piscina {
    this.current ??= this.create();
    return this.current;
  }

  /** Threads running now (0 before first use). */
  get threads(): number {
    return this.current?.threads.length ?? 0;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Kills one thread as a crash would (for tests of supervision). */
  async crashOneForTest(): Promise<void> {
    // Settles when the thread that took it has exited (its tasks are rejected).
    await this.pool.run(null, { name: "crashForTest" }).catch(() => undefined);
  }

  /** `drain`: let queued and running tasks finish; otherwise they are rejected. */
  async close(drain: boolean): Promise<void> {
    this.closing = true;
    clearTimeout(this.replaceTimer);
    if (drain) await this.current?.close();
    else await this.current?.destroy();
  }

  private create(): Piscina {
    const pool = new Piscina({ ...this.options.piscina, minThreads: this.options.piscina.maxThreads, idleTimeout: Infinity });
    if (this.options.onMessage) pool.on("message", this.options.onMessage);
    pool.on("workerDestroy", () => { if (pool === this.current) this.onWorkerLost(new Error(`${this.options.name} worker exited`)); });
    // Errors not tied to a task (e.g. a crash while idle) arrive here; the worker is replaced.
    pool.on("error", (err) => this.options.onRestart?.(this.options.name, err));
    return pool;
  }

  private onWorkerLost(error: unknown): void {
    if (this.closing) return;
    const { name, policy } = this.options;
    const decision = onCrash(policy, this.crashes, Date.now());
    this.crashes = decision.recent;
    this.restarts++;
    if (decision.crashLoop) {
      this.options.onCrashLoop(name, error);
      return;
    }
    this.options.onRestart?.(name, error);
    clearTimeout(this.replaceTimer);
    this.replaceTimer = setTimeout(() => {
      if (this.closing || !this.current || this.current.threads.length >= this.options.piscina.maxThreads) return;
      const old = this.current;
      this.current = this.create();
      void old.destroy();
    }, decision.delayMs);
  }
}
