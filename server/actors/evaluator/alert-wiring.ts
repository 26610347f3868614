import { MessageChannel, type MessagePort } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { transfer } from "comlink";
import { TsmonError } from "../../../common/errors.ts";
import type { Logger } from "../../log.ts";
import type { EvaluatorShardRequest, ReportEvents, WindowShardRequest } from "../protocol/messages.ts";

type WindowPortMessage = Extract<WindowShardRequest, { type: "evaluator-port" }>;
type EvaluatorPortMessage = Extract<EvaluatorShardRequest, { type: "window-port" | "events-port" }>;

/** What the wiring needs of a shard: a SupervisedWorker, or a stand-in in a test. */
export interface WiredShard<Req> {
  request(msg: Req): Promise<unknown>;
  readonly alive: boolean;
  onRestarted?: () => void;
}

export interface WiringTimes {
  /** First pause after a refused channel; doubled per attempt up to maxRetryMs. */
  retryMs: number;
  maxRetryMs: number;
}
const DEFAULT_TIMES: WiringTimes = { retryMs: 250, maxRetryMs: 5_000 };
/** Refusals of one link before it is logged as a warning (and its wiring later as info). */
const WARN_AFTER = 5;

/**
 * Ports between the alerting actors, so a report's path to an alert does not pass through
 * the busy main thread twice: every window shard gets a port to every evaluator shard (it
 * sends each report's observations to the agent's shard), and every evaluator shard a port
 * back to the main thread for the events. A shard that restarts is wired again.
 */
export class AlertWiring {
  private readonly eventPorts = new Map<number, MessagePort>();
  /** The newest wiring of each link (a window ↔ evaluator pair, an evaluator's events): an older one gives way. */
  private readonly generations = new Map<string, number>();
  private readonly stopped = new AbortController();

  constructor(
    private readonly window: { readonly shards: readonly WiredShard<WindowPortMessage>[] },
    private readonly evaluator: { readonly shards: readonly WiredShard<EvaluatorPortMessage>[] },
    /** Runs in a port's message handler: it must not throw. */
    private readonly onEvents: (message: ReportEvents) => void,
    private readonly log: Pick<Logger, "info" | "warn" | "error">,
    private readonly times: WiringTimes = DEFAULT_TIMES,
  ) {
    window.shards.forEach((shard, w) => { shard.onRestarted = () => void this.wireWindow(w); });
    evaluator.shards.forEach((shard, e) => { shard.onRestarted = () => void this.wireEvaluator(e); });
  }

  /** Wires every shard; resolves once every link is wired, or given up (a shard died, a newer wiring began, a non-retryable error). */
  async start(): Promise<void> {
    await Promise.all(this.evaluator.shards.map((_, e) => this.wireEvaluator(e)));
  }

  close(): void {
    this.stopped.abort();
    for (const port of this.eventPorts.values()) port.close();
    this.eventPorts.clear();
  }

  private async wireEvaluator(e: number): Promise<void> {
    const evaluator = this.evaluator.shards[e]!;
    await Promise.all([
      this.until(`evaluator ${e} → main thread (events)`, [evaluator], async () => {
        const { port1, port2 } = new MessageChannel();
        this.eventPorts.get(e)?.close();
        this.eventPorts.set(e, port1);
        port1.on("message", this.onEvents);
        await evaluator.request(transfer({ type: "events-port", port: port2 }, [port2]));
      }),
      ...this.window.shards.map((_, w) => this.connect(w, e)),
    ]);
  }

  private async wireWindow(w: number): Promise<void> {
    await Promise.all(this.evaluator.shards.map((_, e) => this.connect(w, e)));
  }

  /**
   * A new channel between window shard `w` and evaluator shard `e`, offered to both at once.
   * A refused request never left this thread (a full mailbox refuses before posting), so the
   * refused end is closed here: that closes the end the other side took, which then holds
   * its reports (window) or stops listening (evaluator) instead of using a channel to nobody.
   */
  private connect(w: number, e: number): Promise<void> {
    const window = this.window.shards[w]!, evaluator = this.evaluator.shards[e]!;
    return this.until(`window ${w} → evaluator ${e}`, [window, evaluator], async () => {
      const { port1, port2 } = new MessageChannel();
      const [toWindow, toEvaluator] = await Promise.allSettled([
        window.request(transfer({ type: "evaluator-port", shard: e, port: port1 }, [port1])),
        evaluator.request(transfer({ type: "window-port", shard: w, port: port2 }, [port2])),
      ]);
      if (toWindow.status === "rejected" || toEvaluator.status === "rejected") {
        port1.close();
        port2.close();
        throw toWindow.status === "rejected" ? toWindow.reason : (toEvaluator as PromiseRejectedResult).reason;
      }
    });
  }

  /**
   * Runs `attempt` until it succeeds, backing off after each refusal. It never gives up on
   * live shards that refuse for a while (a full mailbox), whose observations or events
   * would otherwise go nowhere; it stops when one of them dies (its restart wires it again),
   * a newer wiring of the same link has begun, the error is not one to retry, or on close.
   */
  private async until(link: string, shards: readonly WiredShard<never>[], attempt: () => Promise<void>): Promise<void> {
    const generation = (this.generations.get(link) ?? 0) + 1;
    this.generations.set(link, generation);
    for (let n = 0; !this.stopped.signal.aborted && this.generations.get(link) === generation; n++) {
      try {
        await attempt();
        if (n >= WARN_AFTER) this.log.info({ link, attempts: n + 1 }, "alert actors wired after refusals");
        return;
      } catch (err) {
        if (shards.some((s) => !s.alive)) return;
        if (!(err instanceof TsmonError && err.retryable)) {
          this.log.error({ err, link }, "wiring the alert actors failed: reports on this link reach no rules until a shard restarts");
          return;
        }
        if (n + 1 === WARN_AFTER) this.log.warn({ err, link }, "alert actors refuse to be wired (full mailbox?); still trying, reports on this link wait meanwhile");
        const pause = Math.min(this.times.maxRetryMs, this.times.retryMs * 2 ** Math.min(n, 5));
        await sleep(pause, undefined, { signal: this.stopped.signal }).catch(() => undefined);
      }
    }
  }
}
