import { MessageChannel, type MessagePort } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { transfer } from "comlink";
import type { EvaluatorShards } from "./evaluator-shards.ts";
import type { ReportEvents } from "./messages.ts";
import type { WindowShards } from "./window-shards.ts";

const RETRIES = 20;
const RETRY_MS = 250;

/**
 * Ports between the alerting actors, so a report's path to an alert does not pass through
 * the busy main thread twice: every window shard gets a port to every evaluator shard (it
 * sends each report's observations to the agent's shard), and every evaluator shard a port
 * back to the main thread for the events. A shard that restarts is wired again.
 */
export class AlertWiring {
  private readonly eventPorts = new Map<number, MessagePort>();
  private closed = false;

  constructor(
    private readonly window: WindowShards,
    private readonly evaluator: EvaluatorShards,
    /** Runs in a port's message handler: it must not throw. */
    private readonly onEvents: (message: ReportEvents) => void,
  ) {
    window.shards.forEach((shard, w) => { shard.onRestarted = () => void this.wireWindow(w); });
    evaluator.shards.forEach((shard, e) => { shard.onRestarted = () => void this.wireEvaluator(e); });
  }

  /** Wires every shard; resolves once every port has arrived. */
  async start(): Promise<void> {
    await Promise.all(this.evaluator.shards.map((_, e) => this.wireEvaluator(e)));
  }

  close(): void {
    this.closed = true;
    for (const port of this.eventPorts.values()) port.close();
    this.eventPorts.clear();
  }

  private async wireEvaluator(e: number): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    this.eventPorts.get(e)?.close();
    this.eventPorts.set(e, port1);
    port1.on("message", this.onEvents);
    await Promise.all([
      this.evaluator.shards[e]!.request(transfer({ type: "events-port", port: port2 }, [port2])),
      ...this.window.shards.map((_, w) => this.connect(w, e)),
    ]).catch(() => undefined); // a shard that died meanwhile is wired again when it restarts
  }

  private async wireWindow(w: number): Promise<void> {
    await Promise.all(this.evaluator.shards.map((_, e) => this.connect(w, e))).catch(() => undefined);
  }

  /** A new channel between window shard `w` and evaluator shard `e`. Should either side
   *  refuse it (a full mailbox), the other may already have dropped its old port: so it is
   *  tried again until both take it, or until the refusing shard dies (its restart re-wires). */
  private async connect(w: number, e: number): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      const { port1, port2 } = new MessageChannel();
      const sent = await Promise.allSettled([
        this.window.shards[w]!.request(transfer({ type: "evaluator-port", shard: e, port: port1 }, [port1])),
        this.evaluator.shards[e]!.request(transfer({ type: "window-port", shard: w, port: port2 }, [port2])),
      ]);
      if (sent.every((r) => r.status === "fulfilled")) return;
      if (!this.window.shards[w]!.alive || !this.evaluator.shards[e]!.alive || attempt >= RETRIES) throw new Error(`window ${w} ↔ evaluator ${e} not wired`);
      await sleep(RETRY_MS);
    }
  }
}
