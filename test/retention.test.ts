import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DAY_MS, expiredDays } from "../server/storage/days.ts";
import { MetricStore } from "../server/storage/metric-store.ts";
import { PartitionSet } from "../server/storage/partitions.ts";
import { applyRetention } from "../server/storage/retention.ts";

test("expiredDays keeps today and the retention_days − 1 days before", (t) => {
  const now = Date.parse("2026-11-23T12:00:00Z");
  const days = ["2026-11-15", "2026-11-16", "2026-11-17", "2026-11-22", "2026-11-23"];
  t.deepEqual(expiredDays(days, now, 7), ["2026-11-15", "2026-11-16"]);
  t.deepEqual(expiredDays(days, now, 1), ["2026-11-15", "2026-11-16", "2026-11-17", "2026-11-22"]);
});

test("retention deletes whole expired partitions and queries span the rest", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-ret-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const partitions = new PartitionSet(dir);
  const store = new MetricStore(partitions);
  const base = Date.parse("2026-11-10T12:00:00Z");
  for (let d = 0; d < 10; d++) {
    await store.write("a1", [{ timestampMs: base + d * DAY_MS, metric: "cpu.usage", value: d, labels: {} }]);
  }
  t.is(partitions.days().length, 10);
  // The injected clock says it is the 19th: with 3 days kept, the 17th-19th survive.
  const dropped = await applyRetention(partitions, Date.parse("2026-11-19T08:00:00Z"), 3);
  t.deepEqual(dropped, ["2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13", "2026-11-14", "2026-11-15", "2026-11-16"]);
  t.deepEqual(partitions.days(), ["2026-11-17", "2026-11-18", "2026-11-19"]);
  const series = store.query("a1", "cpu.usage", base, base + 10 * DAY_MS);
  t.deepEqual(series[0]!.points.map(([, v]) => v), [7, 8, 9]);
  // A range reaching back to 1970 visits only the partitions that exist.
  t.deepEqual(partitions.daysBetween(0, base + 8 * DAY_MS), ["2026-11-17", "2026-11-18"]);
  t.deepEqual(store.query("a1", "cpu.usage", 0, Date.parse("2026-11-17T23:59:59Z"))[0]!.points.map(([, v]) => v), [7]);
  await partitions.closeAll();
});
