import type { AlertEvent, AlertRule } from "../../alerts/types.ts";
import type { EvaluatorReplies, EvaluatorShardRequest } from "../protocol/messages.ts";
import { ShardGroup, type ShardGroupOptions } from "../runtime/shard-group.ts";

/** The rule-evaluator actor: shard threads owning alert lifecycles, by hash of agent_id.
 *  Observations reach them from the window shards directly (alert-wiring.ts). */
export class EvaluatorShards extends ShardGroup<EvaluatorShardRequest, EvaluatorReplies> {
  constructor(options: Omit<ShardGroupOptions, "name" | "entry">) {
    super({ ...options, name: "rule-evaluator", entry: new URL("./evaluator.worker.ts", import.meta.url) });
  }

  async setRules(rules: AlertRule[]): Promise<void> {
    await this.broadcastSticky({ type: "rules", rules });
  }

  async tick(nowMs: number): Promise<AlertEvent[]> {
    return (await this.broadcast({ type: "tick", nowMs })).flatMap((r) => r.events);
  }
}
