import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import snappy from "snappy";
import { LastShapes, parseSeriesText } from "../../common/series-text.ts";
import type { QueuedReport } from "./entry-codec.ts";
import { seriesLabels, type LabelRules, type PromLabel } from "./labels.ts";
import { encodeLabels, encodeTimeseries } from "./proto-writer.ts";

const PROTO_FILE = fileURLToPath(new URL("../../proto/remote-write.proto", import.meta.url));
const WriteRequest = protobuf.loadSync(PROTO_FILE).lookupType("prometheus.WriteRequest");

export interface PromSample { value: number; timestamp: number }
export interface PromSeries {
  labels: PromLabel[];
  samples: PromSample[];
  /** The labels as protobuf `Label` fields, encoded once per series (proto-writer.ts). */
  encodedLabels?: Buffer;
}

/** The headers remote-write 1.0 asks of every request. */
export const REMOTE_WRITE_HEADERS: Readonly<Record<string, string>> = {
  "content-encoding": "snappy",
  "content-type": "application/x-protobuf",
  "x-prometheus-remote-write-version": "0.1.0",
};

interface Shape { labels: PromLabel[][]; encoded: Buffer[] }

/**
 * Per agent, the Prometheus labels of its last report shape: an agent repeats its series
 * in the same order every report, so they are mapped and encoded once per shape, and a
 * series is known by its label array's identity rather than by a string built per point.
 */
export class ShapeLabels {
  private readonly last = new LastShapes<Shape>();
  constructor(private readonly rules: LabelRules) {}

  of(agentId: string, seriesText: string): Shape {
    const hit = this.last.get(agentId, seriesText);
    if (hit) return hit;
    const labels = parseSeriesText(seriesText).map(([metric, l]) => seriesLabels(agentId, metric, l, this.rules));
    return this.last.set(agentId, seriesText, { labels, encoded: labels.map(encodeLabels) });
  }
}

/**
 * Queued reports as requests of at most `maxSamples` samples each: every point becomes a
 * sample of its Prometheus series (labels from `rules`), each series' samples in time order.
 * A report larger than `maxSamples` is split across requests.
 */
export function toRequests(reports: readonly QueuedReport[], rules: LabelRules, maxSamples: number, shapes = new ShapeLabels(rules)): PromSeries[][] {
  const requests: PromSeries[][] = [];
  let series = new Map<PromLabel[], PromSeries>();
  let count = 0;
  for (const { agentId, samples } of reports) {
    const shape = shapes.of(agentId, samples.series);
    for (let i = 0; i < samples.values.length; i++) {
      if (count === maxSamples) {
        requests.push(finish(series));
        series = new Map();
        count = 0;
      }
      const labels = shape.labels[i]!;
      let one = series.get(labels);
      if (!one) series.set(labels, one = { labels, samples: [], encodedLabels: shape.encoded[i]! });
      one.samples.push({ value: samples.values[i]!, timestamp: samples.timestamps[i]! });
      count++;
    }
  }
  if (count) requests.push(finish(series));
  return requests;
}

function finish(series: Map<PromLabel[], PromSeries>): PromSeries[] {
  const out = [...series.values()];
  // Receivers refuse a series whose samples go back in time; reports of one agent can
  // arrive out of order (a spool drained after an outage), so order them here.
  for (const s of out) if (!inOrder(s.samples)) s.samples.sort((a, b) => a.timestamp - b.timestamp);
  return out;
}

function inOrder(samples: PromSample[]): boolean {
  for (let i = 1; i < samples.length; i++) if (samples[i]!.timestamp < samples[i - 1]!.timestamp) return false;
  return true;
}

/** A request body: the WriteRequest protobuf, snappy block-compressed. */
export function encodeWriteRequest(timeseries: PromSeries[]): Buffer {
  return snappy.compressSync(encodeTimeseries(timeseries));
}

/** The inverse of encodeWriteRequest, through protobufjs and proto/remote-write.proto (tests, the benchmark). */
export function decodeWriteRequest(body: Buffer): PromSeries[] {
  const bytes = snappy.uncompressSync(body) as Buffer;
  const msg = WriteRequest.toObject(WriteRequest.decode(bytes), { longs: Number, defaults: true }) as { timeseries: PromSeries[] };
  return msg.timeseries;
}
