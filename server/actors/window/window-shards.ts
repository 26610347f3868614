import type { AlertRule } from "../../alerts/types.ts";
import type { WindowFeedSettings, WindowReplies, WindowShardRequest, WindowStats, WindowWorkerData } from "../protocol/messages.ts";
import { ShardGroup, type ShardGroupOptions, type ShardStats } from "../runtime/shard-group.ts";
import { windowFeedCounters } from "./window-feed.ts";

/**
 * The agent-window actor: its shard threads, and the questions the server asks them. Reports
 * reach the shards from the ingest threads (window-feed.ts), not through here.
 */
export class WindowShards extends ShardGroup<WindowShardRequest, WindowReplies> {
  private readonly feed: WindowFeedSettings;

  constructor(options: Omit<ShardGroupOptions, "name" | "entry" | "workerData"> & { workerData: WindowWorkerData }) {
    super({ ...options, name: "agent-window", entry: new URL("./window.worker.ts", import.meta.url) });
    this.feed = options.workerData.windowFeed;
  }

  /** A shard's mailbox holds the main thread's requests and the ingest threads' reports. */
  override shardStats(): ShardStats[] {
    return super.shardStats().map((s, i) => ({ ...s, depth: s.depth + windowFeedCounters(this.feed, i).depth }));
  }

  /** Reports the shards have taken, and reports dropped because a shard's mailbox was full,
   *  both summed over the shards (32-bit totals that wrap: take differences). */
  feedTotals(): { handled: number; dropped: number } {
    let handled = 0, dropped = 0;
    for (let i = 0; i < this.feed.shards; i++) {
      const c = windowFeedCounters(this.feed, i);
      handled = (handled + c.handled) >>> 0;
      dropped = (dropped + c.dropped) >>> 0;
    }
    return { handled, dropped };
  }

  /** The latest value of every series of the agent, or of one metric's series only. */
  latest(agentId: string, metric?: string): Promise<WindowReplies["latest"]> {
    return this.shardFor(agentId).request(metric === undefined ? { type: "latest", agentId } : { type: "latest", agentId, metric });
  }

  /** Every shard gets the whole rule set (each applies it to its own agents). */
  async setRules(rules: AlertRule[]): Promise<void> {
    await this.broadcastSticky({ type: "rules", rules });
  }

  async stats(): Promise<WindowStats> {
    const all = await this.broadcast({ type: "stats" });
    const sum = (f: (s: WindowStats) => number) => all.reduce((n, s) => n + f(s), 0);
    const agents = sum((s) => s.agents);
    return {
      agents, series: sum((s) => s.series), ruleSeries: sum((s) => s.ruleSeries), samplesHeld: sum((s) => s.samplesHeld),
      bytesPerAgent: agents ? Math.round(sum((s) => s.bytesPerAgent * s.agents) / agents) : 0,
    };
  }
}
