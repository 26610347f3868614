import type { WindowReport } from "./messages.ts";

/**
 * How a batch of reports crosses a window-feed channel: the numbers of all of them in one
 * Float64Array, the strings in two arrays. Structured clone pays per object, not per byte:
 * 8 reports as objects (each with its samples, its times and two Float64Arrays) cost the
 * two threads ≈ 47 µs a message in a microbenchmark, packed ≈ 26 µs.
 */
export interface PackedWindowBatch {
  agentIds: string[];
  series: string[];
  /** Per report: prevLastSeen, arrivedAt, acceptedAt, n, then n timestamps and n values. */
  numbers: Float64Array;
}

const HEADER = 4;

export function packWindowBatch(reports: readonly WindowReport[]): PackedWindowBatch {
  let size = 0;
  for (const r of reports) size += HEADER + 2 * r.samples.values.length;
  const numbers = new Float64Array(size);
  const agentIds = new Array<string>(reports.length), series = new Array<string>(reports.length);
  let at = 0;
  reports.forEach((r, i) => {
    const { timestamps, values } = r.samples, n = values.length;
    agentIds[i] = r.agentId;
    series[i] = r.samples.series;
    numbers[at] = r.prevLastSeen;
    numbers[at + 1] = r.times.arrivedAt;
    numbers[at + 2] = r.times.acceptedAt;
    numbers[at + 3] = n;
    numbers.set(timestamps, at + HEADER); // one per value (SampleBlock)
    numbers.set(values, at + HEADER + n);
    at += HEADER + 2 * n;
  });
  return { agentIds, series, numbers };
}

/** The reports again; their samples are views on the batch's one Float64Array. */
export function unpackWindowBatch({ agentIds, series, numbers }: PackedWindowBatch): WindowReport[] {
  const reports = new Array<WindowReport>(agentIds.length);
  let at = 0;
  for (let i = 0; i < agentIds.length; i++) {
    const n = numbers[at + 3]!, start = at + HEADER;
    reports[i] = {
      agentId: agentIds[i]!,
      samples: { series: series[i]!, timestamps: numbers.subarray(start, start + n), values: numbers.subarray(start + n, start + 2 * n) },
      prevLastSeen: numbers[at]!,
      times: { arrivedAt: numbers[at + 1]!, acceptedAt: numbers[at + 2]! },
    };
    at = start + 2 * n;
  }
  return reports;
}
