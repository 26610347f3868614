import test from "ava";
import { ColumnBuilder, toPairs } from "../server/query/point-columns.ts";

const pairsOf = (b: ColumnBuilder) => toPairs(b.finish());

test("points read in time order come back as they are, across growth", (t) => {
  const b = new ColumnBuilder(2);
  for (let i = 0; i < 1000; i++) b.push(1000 + i * 10, i / 4);
  const { timestamps, values } = b.finish();
  t.deepEqual(Array.from(timestamps), Array.from({ length: 1000 }, (_, i) => 1000 + i * 10));
  t.deepEqual(Array.from(values), Array.from({ length: 1000 }, (_, i) => i / 4));
});

test("late points are put in time order, and the value read last wins at a repeated instant", (t) => {
  const b = new ColumnBuilder();
  b.push(10, 1);
  b.push(30, 3);
  b.push(20, 2); // a late report
  b.push(30, 33); // the same instant read again (a report stored twice): the later read wins
  b.push(5, 0.5);
  t.deepEqual(pairsOf(b), [[5, 0.5], [10, 1], [20, 2], [30, 33]]);
});

test("truncate drops what was appended after a point, reserve keeps what is held", (t) => {
  const b = new ColumnBuilder(1);
  b.push(1, 1);
  b.push(2, 2);
  b.truncate(1);
  b.reserve(500);
  b.push(3, 3);
  b.truncate(10); // never grows
  t.deepEqual(pairsOf(b), [[1, 1], [3, 3]]);
  t.deepEqual(pairsOf(new ColumnBuilder()), []);
});

test("what finish() returned is never written again, whatever the builder is asked next", (t) => {
  const b = new ColumnBuilder();
  for (const ts of [1, 2, 3]) b.push(ts, ts * 10);
  const first = b.finish();
  t.is(b.length, 0, "the builder starts empty");
  b.truncate(1);
  b.push(9, 99);
  t.deepEqual(Array.from(first.timestamps), [1, 2, 3]);
  t.deepEqual(Array.from(first.values), [10, 20, 30]);
  t.deepEqual(pairsOf(b), [[9, 99]]);
});
