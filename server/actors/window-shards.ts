import type { AlertRule } from "../alerts/types.ts";
import type { ReportSamples, ReportTimes, SampleBlock, WindowReplies, WindowShardRequest, WindowStats } from "./messages.ts";
import { shardOf } from "./shard-of.ts";
import { TurnBatcher } from "./turn-batcher.ts";
import { ShardGroup, type ShardGroupOptions } from "./shard-group.ts";

/** Reports per message to a shard at most (a burst of more goes as several). */
const REPORTS_PER_MESSAGE = 64;

/** The agent-window actor: its shard threads, and the questions the server asks them. */
export class WindowShards extends ShardGroup<WindowShardRequest, WindowReplies> {
  constructor(options: Omit<ShardGroupOptions, "name" | "entry">) {
    super({ ...options, name: "agent-window", entry: new URL("./window.worker.ts", import.meta.url) });
  }

  /** Per shard: the reports of one turn of the event loop go as one message. */
  private readonly batchers = this.shards.map((shard) => new TurnBatcher<ReportSamples & { times: ReportTimes }, boolean>(REPORTS_PER_MESSAGE,
    async (reports) => {
      const { undelivered } = await shard.request({ type: "samples-batch", reports });
      const lost = new Set(undelivered);
      return reports.map((_, i) => !lost.has(i));
    }));

  /** Hands an accepted report's samples to the agent's shard, which sends the rule
   *  observations they make on to the agent's evaluator shard. Resolves to false when they
   *  found no evaluator to take them (it was restarting).
   *  A full mailbox or a dead shard costs nothing but freshness: the shard re-reads storage
   *  when it next sees the agent. */
  push(agentId: string, samples: SampleBlock, prevLastSeen: number, times: ReportTimes): Promise<boolean> {
    return this.batchers[shardOf(agentId, this.shards.length)]!.submit({ agentId, samples, prevLastSeen, times });
  }

  latest(agentId: string): Promise<WindowReplies["latest"]> {
    return this.shardFor(agentId).request({ type: "latest", agentId });
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
