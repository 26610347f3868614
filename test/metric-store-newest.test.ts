import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DAY_MS } from "../server/storage/days.ts";
import { MetricStore } from "../server/storage/metric-store.ts";
import { PartitionSet } from "../server/storage/partitions.ts";

test("newestBefore finds the agent's newest stored report before an instant in that day, and nobody else's", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-newest-"));
  const partitions = new PartitionSet(dir);
  t.teardown(async () => { await partitions.closeAll(); rmSync(dir, { recursive: true, force: true }); });
  const now = Date.parse("2026-11-23T12:00:00Z");
  const store = new MetricStore(partitions, () => now);
  const point = (ts: number) => [{ timestampMs: ts, metric: "cpu.usage", value: 1, labels: {} }];
  const t0 = now - 60_000;
  await store.write("web-1", point(t0));
  await store.write("web-1", point(t0 + 10_000));
  await store.write("web-10", point(t0 + 15_000)); // an id that sorts right after web-1's keys
  await store.write("web-0", point(t0 + 5_000)); // and one right before
  store.renewReads();
  t.is(store.newestBefore("web-1", t0 + 20_000), t0 + 10_000);
  t.is(store.newestBefore("web-1", t0 + 10_000), t0, "strictly before: a retried report does not find itself");
  t.is(store.newestBefore("web-1", t0), 0, "nothing before the first");
  t.is(store.newestBefore("web-2", t0 + 20_000), 0, "an agent with nothing stored");
  t.is(store.newestBefore("web-10", t0 + 20_000), t0 + 15_000);
  // A day past taking recent writes is not looked at (late reports go their own way).
  await store.write("web-1", point(now - 3 * DAY_MS));
  t.is(store.newestBefore("web-1", now - 3 * DAY_MS + 1_000), 0);
});
