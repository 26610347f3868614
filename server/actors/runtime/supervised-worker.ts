import type { Worker } from "node:worker_threads";
import { wrap, type Remote } from "comlink";
import { nodeEndpoint } from "./comlink-node.ts";
import { TsmonError } from "../../../common/errors.ts";
import { onCrash, type Supervision } from "./restart-policy.ts";
import { spawnWorker } from "./spawn-worker.ts";

/** What a stateful actor's worker exposes through comlink: one entry point for every message. */
export interface ActorEndpoint<Req extends { type: string }, Replies extends Record<Req["type"], unknown>> {
  handle<T extends Req>(msg: T): Replies[T["type"]] | Promise<Replies[T["type"]]>;
  /** Ends the thread as a crash would (thread-exit.ts); never answers. */
  crashForTest(): never;
  /** Ends the thread cleanly (thread-exit.ts); never answers. */
  stopThread(): never;
}

export interface SupervisedWorkerOptions extends Supervision {
  name: string;
  entry: URL;
  workerData: unknown;
  /** Requests in flight before the mailbox pushes back with RESOURCE_EXHAUSTED. */
  mailboxSize: number;
}

interface Pending { reject: (err: unknown) => void }

/** How long close() waits for a thread to end itself before terminating it. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * One stateful actor thread driven through comlink, under supervision: a bounded mailbox,
 * in-flight requests rejected (retryable) when the thread dies, and a restart with backoff.
 */
export class SupervisedWorker<Req extends { type: string }, Replies extends Record<Req["type"], unknown>> {
  restarts = 0;
  private worker?: Worker;
  private remote?: Remote<ActorEndpoint<Req, Replies>>;
  private readonly pending = new Set<Pending>();
  private crashes: number[] = [];
  private closing = false;
  private restartTimer?: NodeJS.Timeout;
  /** Configuration a fresh thread needs before anything else (re-sent after every restart). */
  private sticky?: Req;
  /** Called when a restarted thread is up (after its sticky message): ports to re-wire. */
  onRestarted?: () => void;

  constructor(private readonly options: SupervisedWorkerOptions) {
    this.spawn();
  }

  get depth(): number {
    return this.pending.size;
  }

  get name(): string {
    return this.options.name;
  }

  /** A thread is running (false between a crash and its restart). */
  get alive(): boolean {
    return this.remote !== undefined;
  }

  /** Sends one message and waits for its reply. */
  request<T extends Req>(msg: T): Promise<Replies[T["type"]]> {
    const remote = this.remote;
    if (!remote) {
      return Promise.reject(new TsmonError("UNAVAILABLE", `${this.options.name} is restarting; retry shortly`, true));
    }
    if (this.pending.size >= this.options.mailboxSize) {
      return Promise.reject(new TsmonError("RESOURCE_EXHAUSTED", `${this.options.name} mailbox is full; retry later`, true));
    }
    return new Promise<Replies[T["type"]]>((resolve, reject) => {
      const entry: Pending = { reject };
      this.pending.add(entry);
      (remote.handle(msg as never) as Promise<Replies[T["type"]]>).then(
        (reply) => { this.pending.delete(entry); resolve(reply); },
        (err: unknown) => { this.pending.delete(entry); reject(err); },
      );
    });
  }

  /** Sends `msg` now and again first thing after every restart (e.g. the rule set). */
  setSticky<T extends Req>(msg: T): Promise<Replies[T["type"]]> {
    this.sticky = msg;
    return this.request(msg);
  }

  /**
   * Makes the thread end itself as a crash would (for tests of supervision); resolves once
   * it has exited. Not terminate(): see thread-exit.ts.
   */
  crashForTest(): Promise<void> {
    return this.endThread("crashForTest");
  }

  /** Asks the thread to end and waits until it has; terminate() only if it does not within
   *  STOP_TIMEOUT_MS (see thread-exit.ts for why not at once). */
  close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    return this.endThread("stopThread");
  }

  /** Has the thread run `exit` (a thread still starting reads it once its module has run:
   *  comlink's expose()) and resolves once it has exited. */
  private async endThread(exit: "crashForTest" | "stopThread"): Promise<void> {
    const worker = this.worker;
    if (!worker || !this.remote) return;
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    void (this.remote[exit]() as Promise<never>).catch(() => undefined);
    const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  private spawn(): void {
    const worker = spawnWorker(this.options.entry, { workerData: this.options.workerData, name: this.options.name });
    this.worker = worker;
    this.remote = wrap<ActorEndpoint<Req, Replies>>(nodeEndpoint(worker));
    // Comlink delivers in order, so the sticky message precedes every later request.
    if (this.sticky && this.restarts > 0) void this.request(this.sticky).catch(() => undefined);
    if (this.restarts > 0) this.onRestarted?.();
    let lastError: unknown;
    worker.on("error", (err) => { lastError = err; });
    worker.on("exit", (code) => {
      this.worker = undefined;
      this.remote = undefined;
      const error = lastError ?? new Error(`${this.options.name} exited with code ${code}`);
      for (const p of this.pending) p.reject(new TsmonError("UNAVAILABLE", `${this.options.name} stopped while handling the request; retry`, true));
      this.pending.clear();
      if (this.closing) return;
      const decision = onCrash(this.options.policy, this.crashes, Date.now());
      this.crashes = decision.recent;
      this.restarts++;
      if (decision.crashLoop) {
        this.options.onCrashLoop(this.options.name, error);
        return;
      }
      this.options.onRestart?.(this.options.name, error);
      this.restartTimer = setTimeout(() => this.spawn(), decision.delayMs);
    });
  }
}
