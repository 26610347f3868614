import { ByteReader, ByteWriter } from "./bytes.ts";

/*
 * One column of numbers, encoded for agent-shaped data:
 *
 * - Timestamps: the first, then deltas of deltas as zigzag varints. A steady interval
 *   costs one byte per report; out-of-order and repeated timestamps are negative and zero
 *   deltas, large gaps just longer varints.
 * - Values: metrics are mostly decimals (two-digit percentages, integer byte counts), so a
 *   column whose every value v is exactly round(v·10^e)/10^e for some e ≤ 15 is stored as
 *   integers, as deltas or deltas of deltas (whichever is shorter): constants and counters
 *   rising by a fixed step cost ~1 byte, slow drifts a byte or two. Any other column (random
 *   floats, -0, infinities, NaN payloads) falls back to Gorilla-style XOR with the previous
 *   value, storing only the bytes between its leading and trailing zero bytes.
 *
 * Round trips are bit-exact for every float64.
 */

const DECIMAL = 0, XOR = 1;
const MAX_EXPONENT = 15;
const MAX_SAFE = 2 ** 52; // zigzag doubles magnitudes: keep them below 2^53

/** Timestamps are whole milliseconds within ±2^50 (until the year 37,000): deltas of deltas then stay exact. */
export const MAX_TIMESTAMP = 2 ** 50;

export function writeTimestamps(w: ByteWriter, ts: ArrayLike<number>): void {
  for (let i = 0; i < ts.length; i++) {
    if (!Number.isInteger(ts[i]) || Math.abs(ts[i]!) >= MAX_TIMESTAMP) throw new RangeError(`timestamp ${ts[i]} is not a whole number of ms within ±2^50`);
  }
  w.uvarint(ts.length);
  writeIntegers(w, ts, 2);
}

export function readTimestamps(r: ByteReader): number[] {
  return readIntegers(r, r.uvarint(), 2);
}

export function writeValues(w: ByteWriter, values: ArrayLike<number>): void {
  const e = decimalExponent(values);
  if (e === null) {
    w.byte(XOR);
    writeXor(w, values);
    return;
  }
  const scale = 10 ** e;
  const ints = Array.from(values, (v) => Math.round(v * scale));
  const order = cost(ints, 1) <= cost(ints, 2) ? 1 : 2;
  w.byte(DECIMAL);
  w.byte(e * 4 + order);
  writeIntegers(w, ints, order);
}

export function readValues(r: ByteReader, count: number): number[] {
  const mode = r.byte();
  if (mode === XOR) return readXor(r, count);
  if (mode !== DECIMAL) throw new RangeError(`unknown value encoding ${mode}`);
  const packed = r.byte();
  const scale = 10 ** Math.floor(packed / 4);
  return readIntegers(r, count, packed % 4).map((n) => n / scale);
}

/** The smallest e such that every value is an exact decimal with e digits (as integers < 2^52), else null. */
function decimalExponent(values: ArrayLike<number>): number | null {
  let e = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Object.is(v, -0)) return null; // an integer column would keep it as +0
    for (;;) {
      const scale = 10 ** e;
      const n = Math.round(v * scale);
      if (Math.abs(n) < MAX_SAFE / 8 && Object.is(n / scale, v)) break;
      if (++e > MAX_EXPONENT || !Number.isFinite(v)) return null;
    }
  }
  return e;
}

/** Integers as the first `order` raw values, then order-th differences, all zigzag varints. */
function writeIntegers(w: ByteWriter, ints: ArrayLike<number>, order: number): void {
  let prev = 0, prevDelta = 0;
  for (let i = 0; i < ints.length; i++) {
    const n = ints[i]!;
    const delta = n - prev;
    w.varint(i === 0 ? n : order === 1 || i === 1 ? delta : delta - prevDelta);
    prevDelta = delta;
    prev = n;
  }
}

function readIntegers(r: ByteReader, count: number, order: number): number[] {
  const out = new Array<number>(count);
  let prev = 0, prevDelta = 0;
  for (let i = 0; i < count; i++) {
    const d = r.varint();
    const delta = i === 0 || order === 1 || i === 1 ? d : prevDelta + d;
    prev += delta;
    prevDelta = delta;
    out[i] = prev;
  }
  return out;
}

/** Bytes the integers would take at `order`, to pick the shorter encoding. */
function cost(ints: readonly number[], order: number): number {
  let bytes = 0, prev = 0, prevDelta = 0;
  for (let i = 0; i < ints.length; i++) {
    const delta = ints[i]! - prev;
    const d = i === 0 ? ints[i]! : order === 1 || i === 1 ? delta : delta - prevDelta;
    const z = d >= 0 ? d * 2 : -d * 2 - 1;
    bytes += z < 0x80 ? 1 : z < 0x4000 ? 2 : z < 0x200000 ? 3 : Math.ceil(Math.log2(z + 1) / 7);
    prevDelta = delta;
    prev = ints[i]!;
  }
  return bytes;
}

const scratch = new DataView(new ArrayBuffer(16));

/** Each value XORed with the previous; a header byte gives its leading and trailing zero bytes. */
function writeXor(w: ByteWriter, values: ArrayLike<number>): void {
  let prevHi = 0, prevLo = 0;
  for (let i = 0; i < values.length; i++) {
    scratch.setFloat64(0, values[i]!, true);
    const lo = scratch.getUint32(0, true), hi = scratch.getUint32(4, true);
    scratch.setUint32(8, (lo ^ prevLo) >>> 0, true);
    scratch.setUint32(12, (hi ^ prevHi) >>> 0, true);
    prevLo = lo;
    prevHi = hi;
    let lead = 0, trail = 0;
    while (lead < 8 && scratch.getUint8(15 - lead) === 0) lead++;
    if (lead === 8) {
      w.byte(0x80); // same as the previous value
      continue;
    }
    while (scratch.getUint8(8 + trail) === 0) trail++;
    w.byte(lead * 8 + trail);
    for (let b = 8 + trail; b < 16 - lead; b++) w.byte(scratch.getUint8(b));
  }
}

function readXor(r: ByteReader, count: number): number[] {
  const out = new Array<number>(count);
  const cur = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < count; i++) {
    const head = r.byte();
    if (head !== 0x80) {
      const lead = Math.floor(head / 8), trail = head % 8;
      for (let b = trail; b < 8 - lead; b++) cur.setUint8(b, cur.getUint8(b) ^ r.byte());
    }
    out[i] = cur.getFloat64(0, true);
  }
  return out;
}
