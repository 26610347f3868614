import { anyGlob } from "../../common/glob.ts";
import type { SampleBlock } from "../actors/protocol/messages.ts";
import type { SeriesRef } from "../../common/series-text.ts";
import type { LiveValue } from "./protocol.ts";

/** What one live client asked for, compiled once when it subscribes. */
export class Subscription {
  private readonly agent: (id: string) => boolean;
  private readonly metric: (name: string) => boolean;

  constructor(readonly agents: string[], readonly metrics: string[], readonly alerts: boolean) {
    this.agent = anyGlob(agents);
    this.metric = anyGlob(metrics);
  }

  wantsAlertsOf(agentId: string): boolean {
    return this.alerts && this.agent(agentId);
  }

  wantsAgent(agentId: string): boolean {
    return this.agent(agentId);
  }

  /** The report's values this subscription wants (`series` is the block's, parsed); empty when none. */
  select(series: readonly SeriesRef[], samples: SampleBlock): LiveValue[] {
    const out: LiveValue[] = [];
    for (let i = 0; i < series.length; i++) {
      const [metric, labels] = series[i]!;
      if (this.metric(metric)) out.push({ metric, labels, value: samples.values[i]!, timestamp_ms: samples.timestamps[i]! });
    }
    return out;
  }
}
