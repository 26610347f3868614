import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { dayOf } from "../server/storage/days.ts";
import { MetricStore } from "../server/storage/metric-store.ts";
import { PartitionSet } from "../server/storage/partitions.ts";
import { rawParts } from "../server/storage/raw-read.ts";

/*
 * Raw reads take the wanted values straight from the stored bytes (raw-read.ts); these
 * checks hold them to what a full decode gives, legacy records (decoded as before) included.
 */

test("rawParts finds the shape id and values of the layout written, and nothing in any other", (t) => {
  // msgpack by hand: [fixstr of 16, bin8 / bin16 of the values].
  const id = [..."0123456789abcdef"].map((c) => c.charCodeAt(0));
  const values = new Uint8Array(new Float64Array([1.5, -2, 1e300]).buffer);
  t.deepEqual(rawParts(Uint8Array.of(0x92, 0xb0, ...id, 0xc4, 24, ...values)), { shapeStart: 2, shapeEnd: 18, valuesStart: 20, count: 3 });
  t.like(rawParts(Uint8Array.of(0x92, 0xb0, ...id, 0xc5, 0x02, 0xf8, ...new Uint8Array(760))), { valuesStart: 21, count: 95 }, "bin16 past 255 bytes");
  t.is(rawParts(Uint8Array.of(0x93, 0x91, 0xa1, 0x6d, 0x91, 0xc0, 0x91, 0x01)), undefined, "a legacy record");
  t.is(rawParts(Uint8Array.of(0x92, 0xb0, ...id, 0xc4, 7, 1, 2, 3, 4, 5, 6, 7)), undefined, "not whole float64s");
  t.is(rawParts(Uint8Array.of(0x92, 0xb0)), undefined, "cut short");
});

test("a metric read from raw records equals the full decode's values, legacy records among them in time order", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-raw-read-"));
  const partitions = new PartitionSet(dir);
  t.teardown(async () => { await partitions.closeAll(); rmSync(dir, { recursive: true, force: true }); });
  const store = new MetricStore(partitions);
  const base = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;
  const expected: [number, number][] = [];
  for (let i = 0; i < 30; i++) {
    const ts = base + i * 10_000;
    const cpu = Math.round(Math.sin(i) * 10_000) / 100;
    if (i % 7 === 3) {
      // A record as written before shapes: [metrics, labels, values].
      await partitions.recent(dayOf(ts)).put(["r-1", ts, 1], [["mem", "cpu.usage"], [null, null], [i, cpu]]);
    } else {
      await store.write("r-1", [{ metric: "mem", labels: {}, value: i, timestampMs: ts }, { metric: "cpu.usage", labels: {}, value: cpu, timestampMs: ts }, { metric: "disk", labels: { mount: "/" }, value: -i, timestampMs: ts }]);
    }
    expected.push([ts, cpu]);
  }
  const [cpu] = store.query("r-1", "cpu.usage", base, base + 3_600_000);
  t.deepEqual(cpu!.points, expected);
  // Reports of one agent whose series change from one instant to the next (two shapes in turn).
  await store.write("r-2", [{ metric: "cpu.usage", labels: {}, value: 1, timestampMs: base }, { metric: "cpu.usage", labels: {}, value: 2, timestampMs: base + 1000 }, { metric: "disk", labels: {}, value: 3, timestampMs: base + 1000 }]);
  await store.write("r-2", [{ metric: "disk", labels: {}, value: 4, timestampMs: base + 2000 }]);
  t.deepEqual(store.query("r-2", "disk", base, base + 3_600_000)[0]!.points, [[base + 1000, 3], [base + 2000, 4]]);
  t.deepEqual(store.query("r-2", "cpu.usage", base, base + 3_600_000)[0]!.points, [[base, 1], [base + 1000, 2]]);
  const several = store.columnsOf("r-1", ["cpu.usage", "disk"], base, base + 3_600_000);
  t.deepEqual(several.map((s) => [s.metric, s.labels, s.values.length]), [["cpu.usage", {}, 30], ["disk", { mount: "/" }, 26]]);
  const scanned = [...store.scan("r-1", base, base + 3_600_000)].map((r) => [r.tsMs, r.points.find((p) => p.metric === "cpu.usage")!.value]);
  t.deepEqual(scanned, expected, "the full decode agrees");
});
