import test from "ava";
import { toSeriesText, parseSeriesText, type SampleBlock, type SeriesRef } from "../common/series-text.ts";
import { InstantSplitter } from "../server/storage/instant-split.ts";
import { ReportGatherer } from "../agent/report-gatherer.ts";

const block = (refs: SeriesRef[], timestamps: number[], values: number[]): SampleBlock => ({
  series: toSeriesText(refs), timestamps: Float64Array.from(timestamps), values: Float64Array.from(values),
});

test("a report of several instants splits into one part per instant, in order of first appearance", (t) => {
  const refs: SeriesRef[] = [["cpu.usage", {}], ["disk.used", { mount: "/" }], ["cpu.usage", {}], ["disk.used", { mount: "/" }], ["load.load_1", {}]];
  const parts = new InstantSplitter().split("a", block(refs, [2000, 2000, 1000, 1000, 2000], [1, 2, 3, 4, 5]));
  t.deepEqual(parts.map((p) => [p.tsMs, parseSeriesText(p.text), [...p.values]]), [
    [2000, [["cpu.usage", {}], ["disk.used", { mount: "/" }], ["load.load_1", {}]], [1, 2, 5]],
    [1000, [["cpu.usage", {}], ["disk.used", { mount: "/" }]], [3, 4]],
  ]);
});

test("the plan is reused for the same layout and remade when the layout or the grouping changes", (t) => {
  const splitter = new InstantSplitter();
  const refs: SeriesRef[] = [["a", {}], ["b", {}], ["a", {}], ["b", {}]];
  const first = splitter.split("x", block(refs, [1, 1, 2, 2], [1, 2, 3, 4]));
  const again = splitter.split("x", block(refs, [5, 5, 6, 6], [5, 6, 7, 8]));
  t.is(again[0]!.text, first[0]!.text, "the same text object: the plan was kept");
  t.deepEqual(again.map((p) => [p.tsMs, [...p.values]]), [[5, [5, 6]], [6, [7, 8]]]);
  const regrouped = splitter.split("x", block(refs, [1, 2, 2, 2], [1, 2, 3, 4]));
  t.deepEqual(regrouped.map((p) => [p.tsMs, parseSeriesText(p.text).map((r) => r[0]), [...p.values]]), [[1, ["a"], [1]], [2, ["b", "a", "b"], [2, 3, 4]]]);
});

test("the agent's gatherer puts N collections in a report, and stops short of the server's point limit", (t) => {
  const out: number[][] = [];
  const gatherer = new ReportGatherer(3, (r) => out.push(r.points.map((p) => p.timestampMs)), 5);
  const collection = (ts: number, n: number) => ({ agentId: "a", timestampMs: ts, points: Array.from({ length: n }, () => ({ timestampMs: ts, metric: "m", value: 1, labels: {} })) });
  for (const ts of [1, 2, 3, 4]) gatherer.add(collection(ts, 1));
  t.deepEqual(out, [[1, 2, 3]]);
  gatherer.add(collection(5, 3)); // 1 + 3 points fit; the next 2 would pass 5
  gatherer.add(collection(6, 2));
  t.deepEqual(out.at(-1), [4, 5, 5, 5]);
  gatherer.flush();
  t.deepEqual(out.at(-1), [6, 6]);
  gatherer.flush();
  t.is(out.length, 3, "nothing gathered: nothing sent");
});
