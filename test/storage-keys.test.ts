import test from "ava";
import { DAY_MS, dayOf, dayStartMs, retentionStartMs } from "../server/storage/days.ts";
import { contentHash } from "../server/storage/content-hash.ts";

test("dayOf names the UTC day of any instant, also when consecutive instants alternate between days", (t) => {
  const instants = [0, -1, 1_767_225_599_999, 1_767_225_600_000, 1_767_225_599_999, Date.UTC(2028, 1, 29, 23, 59, 59, 999), -DAY_MS, 253_402_300_799_999];
  for (let i = 0; i < 2_000; i++) instants.push(Math.floor((i % 2 ? 1 : -1) * 1e12 + i * 7_777_777_777));
  for (const ts of instants) t.is(dayOf(ts), new Date(ts).toISOString().slice(0, 10), String(ts));
  t.throws(() => dayOf(Number.NaN), { instanceOf: RangeError });
});

test("retentionStartMs is the start of the oldest day kept", (t) => {
  for (const now of [1_767_225_600_000, 1_767_225_599_999, 1_767_312_000_123, 1_000]) {
    for (const days of [1, 7, 90]) {
      t.is(retentionStartMs(now, days), dayStartMs(new Date(now).toISOString().slice(0, 10)) - (days - 1) * DAY_MS, `${now} ${days}`);
    }
  }
});

test("contentHash is the same for the same record and differs for any bit of any value or of the shape id", (t) => {
  const values = Float64Array.from([0, 1.5, -2.25, 1e300, 42]);
  const base = contentHash("0123456789abcdef", values);
  t.is(contentHash("0123456789abcdef", Float64Array.from(values)), base);
  t.not(contentHash("0123456789abcdee", values), base);
  t.not(contentHash("0123456789abcdef", values.subarray(0, 4)), base);
  const bytes = new Uint8Array(values.buffer);
  const seen = new Set([base]);
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    bytes[bit >> 3]! ^= 1 << (bit & 7);
    seen.add(contentHash("0123456789abcdef", values));
    bytes[bit >> 3]! ^= 1 << (bit & 7);
  }
  t.is(seen.size, 1 + bytes.length * 8, "every single-bit change gives a hash of its own");
  t.not(contentHash("x", Float64Array.of(0)), contentHash("x", Float64Array.of(-0)));
  t.is(contentHash("0123456789abcdef", values), base, "the input is left as it was");
});
