import type { Labels } from "./metrics.ts";

/** The samples of one report, columnar: the series as one string (toSeriesText), the bulk
 *  as typed arrays. Point i is series i of `series`, at timestamps[i] with values[i]. */
export interface SampleBlock {
  series: string;
  timestamps: Float64Array;
  values: Float64Array;
}

/** One series of a report: its metric and labels. */
export type SeriesRef = readonly [metric: string, labels: Labels];

/*
 * A report's series, in point order, travel between threads as one JSON string rather than
 * arrays of strings and label objects: a structured clone of one string is a single copy,
 * where ~100 strings and objects cost a serialisation each way. And an agent reports the
 * same series in the same order every time, so its reports give equal strings: a receiver
 * compares the string with the last one it parsed for that agent and parses only a new shape.
 */

export function toSeriesText(refs: readonly SeriesRef[]): string {
  return JSON.stringify(refs);
}

/** Parses a text made by toSeriesText (inside the server, so trusted). */
export function parseSeriesText(text: string): SeriesRef[] {
  return JSON.parse(text) as SeriesRef[];
}

/** Agents remembered at most (beyond, the memory starts again): bounds a fleet's worth of shapes. */
const MAX_AGENTS = 100_000;

/**
 * Per agent, the last series text seen and what was derived from it (parsed series, a
 * shape id, "already validated"): a repeated shape costs one string comparison.
 */
export class LastShapes<T> {
  private readonly last = new Map<string, { text: string; value: T }>();

  get(agentId: string, text: string): T | undefined {
    const hit = this.last.get(agentId);
    return hit?.text === text ? hit.value : undefined;
  }

  set(agentId: string, text: string, value: T): T {
    if (!this.last.has(agentId) && this.last.size >= MAX_AGENTS) this.last.clear();
    this.last.set(agentId, { text, value });
    return value;
  }
}

/** The last shape parsed per agent, for receivers that do not keep their own per-agent state. */
export class SeriesTextCache {
  private readonly last = new LastShapes<SeriesRef[]>();

  refs(agentId: string, text: string): SeriesRef[] {
    return this.last.get(agentId, text) ?? this.last.set(agentId, text, parseSeriesText(text));
  }
}
