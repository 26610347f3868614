import type { AlertEvent, AlertRule, Observation } from "../alerts/types.ts";
import type { EvaluatorReplies, EvaluatorRequest } from "./messages.ts";
import { ShardGroup, type ShardGroupOptions } from "./shard-group.ts";

/** The rule-evaluator actor: shard threads owning alert lifecycles, by hash of agent_id. */
export class EvaluatorShards extends ShardGroup<EvaluatorRequest, EvaluatorReplies> {
  constructor(options: Omit<ShardGroupOptions, "name" | "entry">) {
    super({ ...options, name: "rule-evaluator", entry: new URL("./evaluator.worker.ts", import.meta.url) });
  }

  /** Observations of one report (one agent) go to that agent's shard. */
  async observe(agentId: string, observations: Observation[]): Promise<AlertEvent[]> {
    return (await this.shardFor(agentId).request({ type: "observe", observations })).events;
  }

  async setRules(rules: AlertRule[]): Promise<void> {
    await this.broadcastSticky({ type: "rules", rules });
  }

  async tick(nowMs: number): Promise<AlertEvent[]> {
    return (await this.broadcast({ type: "tick", nowMs })).flatMap((r) => r.events);
  }
}
