import type { Supervision } from "./restart-policy.ts";
import { shardOf } from "./shard-of.ts";
import { SupervisedWorker } from "./supervised-worker.ts";

export interface ShardGroupOptions extends Supervision {
  /** Shard threads are named `<name>-<i>`. */
  name: string;
  entry: URL;
  shards: number;
  mailboxSize: number;
  /** Given to every shard, with `shard` (its index) and `shards` (the count) added. */
  workerData: object;
}

export interface ShardStats { name: string; depth: number; restarts: number; alive: boolean }

/** N supervised threads of one stateful actor, agents spread by a stable hash of agent_id. */
export class ShardGroup<Req extends { type: string }, Replies extends Record<Req["type"], unknown>> {
  readonly shards: SupervisedWorker<Req, Replies>[];

  constructor(options: ShardGroupOptions) {
    this.shards = Array.from({ length: options.shards }, (_, i) => new SupervisedWorker<Req, Replies>({
      name: `${options.name}-${i}`, entry: options.entry, workerData: { ...options.workerData, shard: i, shards: options.shards },
      mailboxSize: options.mailboxSize, policy: options.policy, onCrashLoop: options.onCrashLoop, onRestart: options.onRestart,
    }));
  }

  /** The shard that owns an agent. */
  shardFor(agentId: string): SupervisedWorker<Req, Replies> {
    return this.shards[shardOf(agentId, this.shards.length)]!;
  }

  /** Sends the same message to every shard. */
  broadcast<T extends Req>(msg: T): Promise<Replies[T["type"]][]> {
    return Promise.all(this.shards.map((s) => s.request(msg)));
  }

  /** Broadcasts a message every shard must also get again after a restart. */
  broadcastSticky<T extends Req>(msg: T): Promise<Replies[T["type"]][]> {
    return Promise.all(this.shards.map((s) => s.setSticky(msg)));
  }

  get restarts(): number {
    return this.shards.reduce((n, s) => n + s.restarts, 0);
  }

  shardStats(): ShardStats[] {
    return this.shards.map((s) => ({ name: s.name, depth: s.depth, restarts: s.restarts, alive: s.alive }));
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }
}
