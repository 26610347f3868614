import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { SampleBlock } from "../common/series-text.ts";
import { toSeriesText } from "../common/series-text.ts";
import { DAY_MS, dayOf } from "../server/storage/days.ts";
import { MetricStore } from "../server/storage/metric-store.ts";
import { PartitionSet } from "../server/storage/partitions.ts";
import { hasReportKey } from "../server/storage/report-keys.ts";
import { reportKeyOf } from "../server/ingest/report-key.ts";
import { compactDay } from "../server/storage/compaction.ts";

const now = Date.parse("2026-11-23T12:00:00Z");

function setup(t: import("ava").ExecutionContext) {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-report-keys-"));
  const partitions = new PartitionSet(dir);
  t.teardown(async () => { await partitions.closeAll(); rmSync(dir, { recursive: true, force: true }); });
  return { partitions, store: new MetricStore(partitions, () => now) };
}

const block = (timestamps: number[], value = 1): SampleBlock => ({
  series: toSeriesText(timestamps.map(() => ["cpu.usage", {}])),
  timestamps: Float64Array.from(timestamps),
  values: new Float64Array(timestamps.length).fill(value),
});

const count = (store: MetricStore, agentId: string, from: number, to: number) => {
  store.renewReads();
  let n = 0;
  for (const r of store.scan(agentId, from, to)) n += r.points.length;
  return n;
};

test("a report's key is stored with its records; a resend is skipped even after its raw records are gone", async (t) => {
  const { partitions, store } = setup(t);
  const ts = now - 60_000;
  const key = { streamId: "s1", sequence: 7 };
  await store.writeBlock("web-1", block([ts]), key);
  const db = partitions.recent(dayOf(ts));
  t.true(hasReportKey(db, "web-1", key));
  t.is(count(store, "web-1", ts - 1, ts + 1), 1);
  // A compactor deletes the raw records: the key stays, so a late resend is not stored again.
  for (const k of [...db.getKeys({ start: ["web-1"], end: ["web-1", Infinity] })]) await db.remove(k);
  t.is(count(store, "web-1", ts - 1, ts + 1), 0);
  await store.writeBlock("web-1", block([ts]), key);
  t.is(count(store, "web-1", ts - 1, ts + 1), 0, "the resend was acknowledged without storing");
  // Without a key (an oxmon agent) the report is stored again, as before.
  await store.writeBlock("web-1", block([ts]));
  t.is(count(store, "web-1", ts - 1, ts + 1), 1);
});

test("keys are per agent and stream; the next sequence number is stored", async (t) => {
  const { store } = setup(t);
  const ts = now - 60_000;
  await store.writeBlock("web-1", block([ts]), { streamId: "s1", sequence: 1 });
  await store.writeBlock("web-1", block([ts + 1000]), { streamId: "s1", sequence: 2 });
  await store.writeBlock("web-2", block([ts]), { streamId: "s1", sequence: 1 });
  await store.writeBlock("web-1", block([ts + 2000]), { streamId: "s2", sequence: 1 });
  t.is(count(store, "web-1", ts - 1, ts + 5000), 3);
  t.is(count(store, "web-2", ts - 1, ts + 5000), 1);
});

test("concurrent resends of one report in the same commit store it once", async (t) => {
  const { partitions, store } = setup(t);
  const ts = now - 30_000;
  const key = { streamId: "s1", sequence: 1 };
  await Promise.all([store.writeBlock("web-1", block([ts], 1), key), store.writeBlock("web-1", block([ts], 2), key)]);
  const db = partitions.recent(dayOf(ts));
  t.is([...db.getKeys({ start: ["web-1"], end: ["web-1", Infinity] })].length, 1, "one record: the second (different content, same key) was skipped");
});

test("a late report (a day past taking recent writes) is deduplicated in its transaction too", async (t) => {
  const { store } = setup(t);
  const ts = now - 3 * DAY_MS;
  const key = { streamId: "s1", sequence: 3 };
  await store.writeBlock("web-1", block([ts], 1), key);
  await store.writeBlock("web-1", block([ts], 2), key);
  t.is(count(store, "web-1", ts - 1, ts + 1), 1);
});

test("a malformed stream id or sequence is refused, naming the field", (t) => {
  t.is(reportKeyOf(undefined, 5), undefined);
  t.is(reportKeyOf("", 5), undefined);
  t.deepEqual(reportKeyOf("abc-DEF_1", 5), { streamId: "abc-DEF_1", sequence: 5 });
  t.throws(() => reportKeyOf("a b", 1), { message: /^stream_id:/ });
  t.throws(() => reportKeyOf("x".repeat(65), 1), { message: /^stream_id:/ });
  t.throws(() => reportKeyOf("ok", -1), { message: /^sequence:/ });
});

test("keys of files written before they were root keys (a `report-keys` database) are still found and carried into chunks", async (t) => {
  const { partitions, store } = setup(t);
  const ts = now - 45_000;
  const day = dayOf(ts);
  const raw = partitions.recent(day);
  await raw.openDB<number, [string, string, number]>({ name: "report-keys", encoding: "msgpack" }).put(["web-1", "old", 4], ts);
  const key = { streamId: "old", sequence: 4 };
  t.true(hasReportKey(raw, "web-1", key));
  t.false(await store.writeBlock("web-1", block([ts]), key), "a resend of a key stored the old way is a duplicate");
  t.is(count(store, "web-1", ts - 1, ts + 1), 0);
  await store.writeBlock("web-1", block([ts + 1000]), { streamId: "new", sequence: 1 });
  await compactDay(partitions, day);
  const { env } = partitions.chunksForWriting(day);
  t.true(hasReportKey(env, "web-1", key), "the old key went into the chunks");
  t.true(hasReportKey(env, "web-1", { streamId: "new", sequence: 1 }));
  t.false(hasReportKey(env, "web-1", { streamId: "new", sequence: 2 }));
  t.false(await store.writeBlock("web-1", block([ts]), key), "and a resend after the compaction is still a duplicate");
  t.is(count(store, "web-1", ts - 1, ts + 2000), 1);
});
