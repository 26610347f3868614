/**
 * Turns a recording of scripts/record-idle-host.ts (one batch per line) into a columnar
 * fixture: `tsx scripts/idle-fixture.ts IN.jsonl OUT.json`. One timestamp column and one
 * value column per series (null where a batch lacked it), so an hour stays small.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { seriesKey, type Labels, type MetricBatch } from "../common/metrics.ts";

interface IdleFixture {
  agentId: string;
  intervalMs: number;
  timestamps: number[];
  series: { metric: string; labels: Labels; values: (number | null)[] }[];
}

const [input, output] = process.argv.slice(2);
if (!input || !output) throw new Error("usage: idle-fixture.ts IN.jsonl OUT.json");
const batches = readFileSync(input, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as MetricBatch);
const timestamps = batches.map((b) => b.timestampMs);
const series = new Map<string, IdleFixture["series"][number]>();
batches.forEach((batch, i) => {
  for (const p of batch.points) {
    const key = seriesKey(p.metric, p.labels);
    let s = series.get(key);
    if (!s) series.set(key, (s = { metric: p.metric, labels: p.labels, values: new Array<number | null>(batches.length).fill(null) }));
    s.values[i] = p.value;
  }
});
const gaps = timestamps.slice(1).map((ts, i) => ts - timestamps[i]!).sort((a, b) => a - b);
const fixture: IdleFixture = {
  agentId: batches[0]?.agentId ?? "idle-host",
  intervalMs: Math.round((gaps[gaps.length >> 1] ?? 0) / 1000) * 1000,
  timestamps,
  series: [...series.values()],
};
// One series per line: readable in a diff, still compact.
const lines = [
  `"agentId": ${JSON.stringify(fixture.agentId)}`, `"intervalMs": ${fixture.intervalMs}`,
  `"timestamps": ${JSON.stringify(timestamps)}`,
  `"series": [\n${fixture.series.map((s) => "  " + JSON.stringify(s)).join(",\n")}\n]`,
];
writeFileSync(output, `{\n${lines.join(",\n")}\n}\n`);
