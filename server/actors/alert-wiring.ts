import { MessageChannel, type MessagePort } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { transfer } from "comlink";
import type { EvaluatorShardRequest, ReportEvents, WindowShardRequest } from "./messages.ts";

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
  private closed = false;

  constructor(
    private readonly window: { readonly shards: readonly WiredShard<WindowPortMessage>[] },
    private readonly evaluator: { readonly shards: readonly WiredShard<EvaluatorPortMessage>[] },
    /** Runs in a port's message handler: it must not throw. */
    private readonly onEvents: (message: ReportEvents) => void,
    private readonly times: WiringTimes = DEFAULT_TIMES,
  ) {
    window.shards.forEach((shard, w) => { shard.onRestarted = () => void this.wireWindow(w); });
    evaluator.shards.forEach((shard, e) => { shard.onRestarted = () => void this.wireEvaluator(e); });
  }

  /** Wires every shard; resolves once every port has arrived or its shard has died. */
  async start(): Promise<void> {
    await Promise.all(this.evaluator.shards.map((_, e) => this.wireEvaluator(e)));
  }

  close(): void {
    this.closed = true;
    for (const port of this.eventPorts.values()) port.close();
    this.eventPorts.clear();
  }

  private async wireEvaluator(e: number): Promise<void> {
    await Promise.allSettled([
      this.until(`events ${e}`, [this.evaluator.shards[e]!], async () => {
        const { port1, port2 } = new MessageChannel();
        this.eventPorts.get(e)?.close();
        this.eventPorts.set(e, port1);
        port1.on("message", this.onEvents);
        await this.evaluator.shards[e]!.request(transfer({ type: "events-port", port: port2 }, [port2]));
      }),
      ...this.window.shards.map((_, w) => this.connect(w, e)),
    ]); // a shard that died meanwhile is wired again when it restarts
  }

  private async wireWindow(w: number): Promise<void> {
    await Promise.allSettled(this.evaluator.shards.map((_, e) => this.connect(w, e)));
  }

  /**
   * A new channel between window shard `w` and evaluator shard `e`. Should either side refuse
   * it (a full mailbox), the other may already hold its end of a channel nobody listens to:
   * so a fresh channel is offered to both until both take the same one.
   */
  private connect(w: number, e: number): Promise<void> {
    const window = this.window.shards[w]!, evaluator = this.evaluator.shards[e]!;
    return this.until(`${w}:${e}`, [window, evaluator], async () => {
      const { port1, port2 } = new MessageChannel();
      const sent = await Promise.allSettled([
        window.request(transfer({ type: "evaluator-port", shard: e, port: port1 }, [port1])),
        evaluator.request(transfer({ type: "window-port", shard: w, port: port2 }, [port2])),
      ]);
      const refused = sent.find((r) => r.status === "rejected");
      if (refused) throw refused.reason;
    });
  }

  /**
   * Runs `attempt` until it succeeds, backing off after each refusal. It never gives up on
   * live shards, whose observations or events would otherwise go nowhere; it stops when one
   * of them dies (its restart wires it again) or a newer wiring of the same link has begun.
   */
  private async until(link: string, shards: readonly WiredShard<never>[], attempt: () => Promise<void>): Promise<void> {
    const generation = (this.generations.get(link) ?? 0) + 1;
    this.generations.set(link, generation);
    for (let n = 0; !this.closed && this.generations.get(link) === generation; n++) {
      try {
        return await attempt();
      } catch {
        if (shards.some((s) => !s.alive)) return;
        await sleep(Math.min(this.times.maxRetryMs, this.times.retryMs * 2 ** Math.min(n, 5)));
      }
    }
  }
}
