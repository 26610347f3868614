import { LastShapes, parseSeriesText, toSeriesText, type SampleBlock } from "../../common/series-text.ts";

/** How a report of several instants splits into one raw record per instant. */
interface SplitPlan {
  /** Per instant, in order of first appearance: its series text and the indices of its points. */
  texts: string[];
  indices: Int32Array[];
}

/** One instant of a report: its points' series text and values. */
export interface InstantPart {
  tsMs: number;
  text: string;
  values: Float64Array;
}

/**
 * Splits reports that hold several instants (an agent's report_interval_secs gathers its
 * collections) into one part per instant. Working out each instant's series text means
 * parsing the report's and writing one per instant; an agent sends the same layout report
 * after report, so the plan is kept per agent and reused while the series text and the
 * grouping of points by instant stay the same.
 */
export class InstantSplitter {
  private readonly plans = new LastShapes<SplitPlan>();

  split(agentId: string, block: SampleBlock): InstantPart[] {
    const { timestamps, values } = block;
    const groupOf = new Int32Array(timestamps.length);
    const instants: number[] = [];
    const groupOfTs = new Map<number, number>();
    for (let i = 0; i < timestamps.length; i++) {
      const ts = timestamps[i]!;
      let g = groupOfTs.get(ts);
      if (g === undefined) groupOfTs.set(ts, (g = instants.push(ts) - 1));
      groupOf[i] = g;
    }
    const key = `${block.series}\n${groupOf.join(",")}`;
    const plan = this.plans.get(agentId, key) ?? this.plans.set(agentId, key, planOf(block.series, groupOf, instants.length));
    return instants.map((tsMs, g) => {
      const indices = plan.indices[g]!;
      const part = new Float64Array(indices.length);
      for (let k = 0; k < indices.length; k++) part[k] = values[indices[k]!]!;
      return { tsMs, text: plan.texts[g]!, values: part };
    });
  }
}

function planOf(series: string, groupOf: Int32Array, groups: number): SplitPlan {
  const refs = parseSeriesText(series);
  const members: number[][] = Array.from({ length: groups }, () => []);
  groupOf.forEach((g, i) => members[g]!.push(i));
  return {
    texts: members.map((m) => toSeriesText(m.map((i) => refs[i]!))),
    indices: members.map((m) => Int32Array.from(m)),
  };
}
