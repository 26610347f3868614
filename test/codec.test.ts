import test from "ava";
import { ByteReader, ByteWriter } from "../server/storage/codec/bytes.ts";
import { decodeSeriesBlock, decodeTimestampBlock, encodeSeriesBlock, encodeTimestampBlock, type SeriesBlock } from "../server/storage/codec/chunk.ts";
import { readTimestamps, readValues, readValuesInto, writeTimestamps, writeValues } from "../server/storage/codec/columns.ts";
import { parseSeriesKey, seriesKey } from "../common/metrics.ts";

/*
 * The sealed-chunk codec: every column must come back bit for bit, whatever the values
 * (every float64 class but NaN-as-a-value is compared with Object.is, so -0 counts), the
 * gaps, the order or the repeats of timestamps.
 */

const bits = (v: number) => Buffer.from(new Float64Array([v]).buffer).toString("hex");

function roundTripValues(values: number[]): number[] {
  const w = new ByteWriter();
  writeValues(w, values);
  const r = new ByteReader(w.finish());
  const out = readValues(r, values.length);
  if (r.offset !== w.length) throw new Error("column not fully read");
  return Array.from(out);
}

function roundTripTimestamps(ts: number[]): number[] {
  const w = new ByteWriter();
  writeTimestamps(w, ts);
  return Array.from(readTimestamps(new ByteReader(w.finish())));
}

const EDGE_VALUES = [
  0, -0, 1, -1, 0.5, 12.34, -99.99, 100, 4096, 17_179_869_184, 1e15, -1e15, 2 ** 53, 2 ** 53 + 2, -(2 ** 53),
  Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE,
  2.2250738585072014e-308, 5e-324, 1e-300, 0.1 + 0.2, Math.PI, -Math.E, 1 / 3, Infinity, -Infinity, 1e21, 123456789.123456,
];

test("value columns round-trip every class of float64 bit for bit", (t) => {
  const cases: Record<string, number[]> = {
    "every edge value, mixed": EDGE_VALUES,
    "two decimals": Array.from({ length: 500 }, (_, i) => Math.round(Math.sin(i) * 10_000) / 100),
    "integers counting up": Array.from({ length: 500 }, (_, i) => 1_000_000 + i * 10),
    "a constant": Array(500).fill(17_179_869_184),
    "4 KiB steps drifting": Array.from({ length: 500 }, (_, i) => 8 * 2 ** 30 + Math.round(Math.sin(i / 7) * 40) * 4096),
    "large integers, both signs": Array.from({ length: 300 }, (_, i) => (i % 2 ? -1 : 1) * (2 ** 48 - i * i * 12_345)),
    "noisy counters": Array.from({ length: 500 }, (_, i) => (i * 7919) % 50_000),
    "quadratic growth": Array.from({ length: 500 }, (_, i) => i * i * 3 + 11),
    "all -0": Array(10).fill(-0),
    "random doubles": Array.from({ length: 500 }, () => Math.random() * 1e6 - 5e5),
    "one value": [42.5],
    "no values": [],
  };
  for (const [name, values] of Object.entries(cases)) {
    t.deepEqual(roundTripValues(values).map(bits), values.map(bits), name);
  }
  // Noise of a steady width is bit-packed: every width, each side of the reader's 24-bit loop.
  let seed = 7;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let width = 1; width <= 40; width++) {
    const values = Array.from({ length: 97 }, () => 1_000 + Math.floor(next() * 2 ** width) * 3);
    t.deepEqual(roundTripValues(values).map(bits), values.map(bits), `${width}-bit noise`);
    const decimals = values.map((v) => v / 100);
    t.deepEqual(roundTripValues(decimals).map(bits), decimals.map(bits), `${width}-bit noise, two decimals`);
  }
  for (const v of EDGE_VALUES) t.is(bits(roundTripValues([v])[0]!), bits(v), `alone: ${v}`);
  for (let i = 0; i < EDGE_VALUES.length; i++) {
    const pair = [EDGE_VALUES[i]!, EDGE_VALUES[(i * 7 + 3) % EDGE_VALUES.length]!];
    t.deepEqual(roundTripValues(pair).map(bits), pair.map(bits), `pair ${pair}`);
  }
});

test("a column decoded for a range of it gives exactly those values, whatever the encoding", (t) => {
  let seed = 11;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const columns: Record<string, number[]> = {
    "noise, two decimals (packed)": Array.from({ length: 360 }, () => Math.round(next() * 10_000) / 100),
    "noise, 30 bits (packed, wide)": Array.from({ length: 360 }, () => Math.floor(next() * 2 ** 30)),
    "4 KiB steps drifting (packed deltas)": Array.from({ length: 360 }, (_, i) => 8 * 2 ** 30 + Math.round(Math.sin(i / 7) * 40) * 4096),
    "a counter (varint deltas)": Array.from({ length: 360 }, (_, i) => 1_000_000 + i * 10 + (i % 3)),
    "quadratic growth": Array.from({ length: 360 }, (_, i) => i * i * 3 + 11),
    "random doubles (xor)": Array.from({ length: 360 }, () => next() * 1e6 - 5e5),
    "one value": [42.5],
  };
  for (const [name, values] of Object.entries(columns)) {
    const w = new ByteWriter();
    writeValues(w, values);
    const bytes = w.finish();
    const ranges = [[0, values.length], [values.length - 1, values.length], [0, 1], [Math.floor(values.length / 3), Math.floor((2 * values.length) / 3)], [7, 7]];
    for (const [from, to] of ranges) {
      const out = new Float64Array(values.length + 5).fill(-1);
      const r = new ByteReader(bytes);
      readValuesInto(r, values.length, out, from!, to!);
      t.is(r.offset, bytes.length, `${name}: the whole column is passed over`);
      t.deepEqual(Array.from(out.subarray(from, to)).map(bits), values.slice(from, to).map(bits), `${name} [${from}, ${to})`);
    }
  }
});

test("timestamp columns round-trip steady, jittered, out-of-order, repeated and far-apart times", (t) => {
  const start = 1_795_000_000_000;
  const cases: Record<string, number[]> = {
    steady: Array.from({ length: 8640 }, (_, i) => start + i * 10_000),
    jittered: Array.from({ length: 1000 }, (_, i) => start + i * 10_000 + ((i * 37) % 23)),
    "out of order": [start + 20_000, start, start + 10_000, start - 5_000, start + 30_000],
    repeated: [start, start, start, start + 10_000, start + 10_000],
    "large gaps": [start, start + 1, start + 365 * 86_400_000, start + 366 * 86_400_000, 0, start],
    "the whole range": [0, 1, 2 ** 50 - 1, -(2 ** 50) + 1, 2 ** 50 - 2, 0],
    single: [start],
    empty: [],
  };
  for (const [name, ts] of Object.entries(cases)) t.deepEqual(roundTripTimestamps(ts), ts, name);
  t.throws(() => roundTripTimestamps([0, 8.64e15]), { message: /within ±2\^50/ });
  t.throws(() => roundTripTimestamps([1.5]), { message: /whole number/ });
  const w = new ByteWriter();
  writeTimestamps(w, cases.steady!);
  t.true(w.length < 8640 + 20, `a steady interval costs about a byte per report (${w.length} bytes)`);
});

test("varints cover every integer the columns write, both signs, up to 2^52", (t) => {
  // Around each switch of the reader: four bytes (2^28 zigzagged) and 31 bits (2^31 zigzagged).
  const edges = [2 ** 27 - 1, 2 ** 27, -(2 ** 27), -(2 ** 27) - 1, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), -(2 ** 30) - 1];
  const ns = [0, 1, -1, 63, -64, 64, 127, 128, -129, ...edges, 2 ** 31, -(2 ** 31), 2 ** 32 + 5, -(2 ** 40), 2 ** 51, -(2 ** 51), 2 ** 52 - 1];
  const w = new ByteWriter();
  for (const n of ns) w.varint(n);
  for (const n of [2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 52 - 1]) w.uvarint(n);
  const r = new ByteReader(w.finish());
  t.deepEqual(ns.map(() => r.varint()), ns);
  t.deepEqual([0, 1, 2, 3].map(() => r.uvarint()), [2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 52 - 1]);
  t.throws(() => r.byte(), { message: /ends early/ });
  t.throws(() => new ByteReader(Uint8Array.of(0x80, 0x80)).uvarint(), { message: /ends early/ }, "a varint cut short");
  t.throws(() => new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x80)).uvarint(), { message: /ends early/ }, "cut short after four bytes");
});

test("sealed blocks keep every series with its labels, values and gaps; agent-shaped data compresses far below a byte a point", (t) => {
  const n = 8640;
  const timestamps = Array.from({ length: n }, (_, i) => 1_795_000_000_000 + i * 10_000 + (i % 3));
  let mem = 8 * 2 ** 30, uptime = 100_000, seed = 1;
  const rand = () => ((seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647);
  const cpu: number[] = [], memUsed: number[] = [], total: number[] = [], up: number[] = [], sometimes: (number | undefined)[] = [];
  for (let i = 0; i < n; i++) {
    cpu.push(Math.round((20 + rand() * 10) * 100) / 100);
    mem += Math.round((rand() - 0.5) * 64) * 4096;
    memUsed.push(mem);
    total.push(16 * 2 ** 30);
    up.push((uptime += 10));
    sometimes.push(i % 5 === 0 ? undefined : i);
  }
  const series: SeriesBlock[] = [
    { metric: "cpu.core_usage", labels: { core: "0" }, values: cpu },
    { metric: "memory.used", labels: {}, values: memUsed },
    { metric: "memory.total", labels: {}, values: total },
    { metric: "load.uptime", labels: {}, values: up },
    { metric: "disk.used", labels: { mount: "/data" }, values: sometimes },
  ];
  const tsBlock = encodeTimestampBlock(timestamps);
  t.deepEqual(Array.from(decodeTimestampBlock(tsBlock)), timestamps);
  let bytes = tsBlock.length;
  for (const s of series) {
    const block = encodeSeriesBlock(s);
    bytes += block.length;
    const decoded = decodeSeriesBlock(block, n);
    t.deepEqual({ ...decoded, values: Array.from(decoded.values) }, s, s.metric);
    // Present in every report: a Float64Array (off the JS heap); with gaps, an array that can hold undefined.
    t.is(decoded.values instanceof Float64Array, Array.from(s.values).every((v) => v !== undefined), s.metric);
  }
  const points = series.reduce((sum, x) => sum + Array.from(x.values).filter((v) => v !== undefined).length, 0);
  t.log(`${bytes} bytes for ${points} points: ${(bytes / points).toFixed(3)} B/point`);
  t.true(bytes / points < 1, `${(bytes / points).toFixed(3)} B/point`);
  t.throws(() => decodeSeriesBlock(encodeSeriesBlock(series[0]!), n + 1), { message: /another timestamp block/ });
  t.throws(() => decodeSeriesBlock(encodeSeriesBlock(series[4]!), n - 1), { message: /another timestamp block/ });
  t.throws(() => decodeTimestampBlock(tsBlock.subarray(0, tsBlock.length - 10)));
});

test("a series key parses back into its metric and labels, whatever the label values hold", (t) => {
  const cases: [string, Record<string, string>][] = [
    ["cpu.usage", {}],
    ["disk.used_percent", { mount: "/" }],
    ["net.bytes", { iface: "eth0", dir: "rx", "z.k-1": "" }],
    ["odd", { a: 'say "hi", then {leave}', b: "back\\slash=,}", c: "ü ∑ 😀", d: "\n\t" }],
  ];
  for (const [metric, labels] of cases) {
    const parsed = parseSeriesKey(seriesKey(metric, labels));
    t.is(parsed.metric, metric);
    t.deepEqual(parsed.labels, labels);
  }
});
