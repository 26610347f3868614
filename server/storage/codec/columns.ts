import { ByteReader, ByteWriter } from "./bytes.ts";

/*
 * One column of numbers, encoded for agent-shaped data:
 *
 * - Timestamps: the first, then deltas of deltas as zigzag varints. A steady interval
 *   costs one byte per report; out-of-order and repeated timestamps are negative and zero
 *   deltas, large gaps just longer varints.
 * - Values: metrics are mostly decimals (two-digit percentages, integer byte counts), so a
 *   column whose every value v is exactly round(v·10^e)/10^e for some e ≤ 15 is stored as
 *   integers: as varint deltas or deltas of deltas (constants and counters rising by a fixed
 *   step cost ~1 byte), or bit-packed — values, deltas or deltas of deltas less their
 *   minimum, divided by their common factor (4 KiB memory steps), in a fixed width — when
 *   that is shorter (noise of a steady width). Any other column (random floats, -0,
 *   infinities, NaN payloads) falls back to Gorilla-style XOR with the previous value,
 *   storing only the bytes between its leading and trailing zero bytes.
 *
 * Round trips are bit-exact for every float64.
 */

const DECIMAL = 0, XOR = 1, PACKED = 2;
const MAX_EXPONENT = 15;
const MAX_SAFE = 2 ** 52; // zigzag doubles magnitudes: keep them below 2^53

/** Timestamps are whole milliseconds within ±2^50 (until the year 37,000): deltas of deltas then stay exact. */
const MAX_TIMESTAMP = 2 ** 50;

export function writeTimestamps(w: ByteWriter, ts: ArrayLike<number>): void {
  for (let i = 0; i < ts.length; i++) {
    if (!Number.isInteger(ts[i]) || Math.abs(ts[i]!) >= MAX_TIMESTAMP) throw new RangeError(`timestamp ${ts[i]} is not a whole number of ms within ±2^50`);
  }
  w.uvarint(ts.length);
  writeIntegers(w, ts, 2);
}

export function readTimestamps(r: ByteReader): Float64Array {
  return readIntegers(r, r.uvarint(), 2);
}

/** The timestamps decoded into `scratch` when it is long enough (a view of it, valid until its next use), else into a new array. */
export function readTimestampsInto(r: ByteReader, scratch: Float64Array): Float64Array {
  const count = r.uvarint();
  return count > scratch.length ? readIntegers(r, count, 2) : readIntegers(r, count, 2, scratch.subarray(0, count));
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
  // Varints suit mostly-small differences; bit-packing (after a base and a common factor,
  // such as 4 KiB memory steps) suits noise of a steady width. The shorter wins.
  const packed = [0, 1, 2].map((order) => packPlan(ints, order)).reduce((a, b) => (b.bytes < a.bytes ? b : a));
  const order = cost(ints, 1) <= cost(ints, 2) ? 1 : 2;
  if (packed.bytes < cost(ints, order)) {
    w.byte(PACKED);
    w.byte(e);
    writePacked(w, ints, packed);
    return;
  }
  w.byte(DECIMAL);
  w.byte(e * 4 + order);
  writeIntegers(w, ints, order);
}

/** Columns decode into Float64Arrays: their memory is outside the JS heap, so a long read leaves the young generation alone. */
export function readValues(r: ByteReader, count: number): Float64Array {
  return readValuesInto(r, count, new Float64Array(count), 0, count);
}

/**
 * Decodes a column of `count` values into `out` (at least that long; a buffer the caller
 * reuses), of which only [from, to) are wanted: the rest of `out` is left unspecified. A
 * fleet read wants the last minutes of an hour: values before them are still walked (each
 * builds on the one before) but not scaled, and a bit-packed column of plain values is
 * unpacked only in range. Returns `out`.
 */
export function readValuesInto(r: ByteReader, count: number, out: Float64Array, from: number, to: number): Float64Array {
  const mode = r.byte();
  if (mode === XOR) return readXor(r, count, out);
  if (mode === PACKED) {
    const scale = 10 ** r.byte();
    readPacked(r, count, out, from, to);
    for (let i = from; i < to; i++) out[i] = out[i]! / scale;
    return out;
  }
  if (mode !== DECIMAL) throw new RangeError(`unknown value encoding ${mode}`);
  const packed = r.byte();
  const scale = 10 ** Math.floor(packed / 4);
  readIntegers(r, count, packed % 4, out);
  for (let i = from; i < to; i++) out[i] = out[i]! / scale; // in place: one column allocated, not two
  return out;
}

/** The smallest e such that every value is an exact decimal with e digits (as integers < 2^49), else null. */
export function decimalExponent(values: ArrayLike<number>): number | null {
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

function readIntegers(r: ByteReader, count: number, order: number, out: Float64Array = new Float64Array(count)): Float64Array {
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

function readXor(r: ByteReader, count: number, out: Float64Array): Float64Array {
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

/** How a column would be bit-packed: `order`-th differences after the first `order` values, less `base`, over `factor`, in `width` bits. */
interface PackPlan { order: number; base: number; factor: number; width: number; bytes: number }

function differences(ints: readonly number[], order: number): number[] {
  let d = [...ints];
  for (let o = 0; o < order; o++) d = d.slice(1).map((v, i) => v - d[i]!);
  return d;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

function packPlan(ints: readonly number[], order: number): PackPlan {
  const d = differences(ints, order);
  if (d.length === 0) return { order, base: 0, factor: 1, width: 0, bytes: ints.length * 8 + 8 };
  let base = Infinity, max = -Infinity;
  for (const v of d) { if (v < base) base = v; if (v > max) max = v; }
  let factor = 0;
  for (const v of d) factor = gcd(factor, v - base);
  factor ||= 1;
  const width = Math.ceil(Math.log2((max - base) / factor + 1));
  // Header: the first `order` values and base, factor, width; then the packed bits.
  return { order, base, factor, width, bytes: 4 * (order + 3) + Math.ceil((d.length * width) / 8) };
}

function writePacked(w: ByteWriter, ints: readonly number[], plan: PackPlan): void {
  w.byte(plan.order);
  // The first values of each difference level, so the reader can integrate back up.
  let level = [...ints];
  for (let o = 0; o < plan.order; o++) {
    w.varint(level[0] ?? 0);
    level = level.slice(1).map((v, i) => v - level[i]!);
  }
  w.varint(plan.base);
  w.uvarint(plan.factor);
  w.byte(plan.width);
  const bits = new BitWriter(w);
  for (const v of level) bits.write((v - plan.base) / plan.factor, plan.width);
  bits.flush();
}

/** Fills out[0…count) (out[from…to) alone for plain values, order 0); see readValuesInto. */
function readPacked(r: ByteReader, count: number, out: Float64Array, from: number, to: number): void {
  const order = r.byte();
  const firsts: number[] = [];
  for (let o = 0; o < order; o++) firsts.push(r.varint());
  const base = r.varint(), factor = r.uvarint(), width = r.byte();
  const packedBytes = Math.ceil((Math.max(0, count - order) * width) / 8);
  if (order === 0) {
    // Plain values in a fixed width: value i sits at bit i·width.
    unpack(r.bytes(packedBytes), out, from, to, width, factor, base, from * width);
    return;
  }
  // The deepest level fills out[order…count); each level above is its running sum from that
  // level's first value, integrated in place (no column per level). A column of one value
  // or none still has `order` firsts: they are integrated in a scratch array.
  const levels = count >= order ? out : new Float64Array(order);
  unpack(r.bytes(packedBytes), levels, order, count, width, factor, base, 0);
  const length = Math.max(count, order);
  for (let o = order - 1; o >= 0; o--) {
    levels[o] = firsts[o]!;
    for (let i = o + 1; i < length; i++) levels[i] = levels[i - 1]! + levels[i]!;
  }
  if (levels !== out) out.set(levels.subarray(0, count));
}

/**
 * Fills out[from…to) with the `width`-bit values from bit `startBit` of `bytes` on, times
 * `factor` plus `base`. Widths up to 24 bits
 * (every agent-shaped column measured) are read in one loop on local 32-bit integers — a
 * fleet read unpacks millions of values — others through BitReader.
 */
function unpack(bytes: Uint8Array, out: Float64Array, from: number, to: number, width: number, factor: number, base: number, startBit: number): void {
  if (width > 24) {
    const bits = new BitReader(new ByteReader(bytes));
    bits.skip(startBit);
    for (let i = from; i < to; i++) out[i] = bits.read(width) * factor + base;
    return;
  }
  const mask = (1 << width) - 1;
  let at = startBit >>> 3, held = 0, acc = 0;
  // Mid-byte start: keep the low bits of the first byte.
  if (startBit & 7) {
    held = 8 - (startBit & 7);
    acc = bytes[at++]! & ((1 << held) - 1);
  }
  for (let i = from; i < to; i++) {
    while (held < width) {
      acc = ((acc << 8) | bytes[at++]!) >>> 0;
      held += 8;
    }
    held -= width;
    out[i] = ((acc >>> held) & mask) * factor + base;
    acc &= (1 << held) - 1;
  }
}

const POW2 = Array.from({ length: 64 }, (_, i) => 2 ** i);

/** MSB-first bit packing of non-negative integers below 2^53, 24 bits at a time (exact in float arithmetic). */
class BitWriter {
  private acc = 0;
  private bits = 0;
  constructor(private readonly out: ByteWriter) {}

  write(value: number, width: number): void {
    for (let rem = width; rem > 0;) {
      const k = Math.min(24, rem);
      rem -= k;
      this.push(Math.floor(value / 2 ** rem) % 2 ** k, k);
    }
  }

  private push(chunk: number, k: number): void {
    this.acc = this.acc * 2 ** k + chunk;
    this.bits += k;
    while (this.bits >= 8) {
      this.bits -= 8;
      this.out.byte(Math.floor(this.acc / 2 ** this.bits) & 0xff);
      this.acc %= 2 ** this.bits;
    }
  }

  flush(): void {
    if (this.bits > 0) this.out.byte((this.acc * 2 ** (8 - this.bits)) & 0xff);
    this.acc = this.bits = 0;
  }
}

class BitReader {
  private acc = 0;
  private bits = 0;
  constructor(private readonly input: ByteReader) {}

  /** Passes over `n` bits. */
  skip(n: number): void {
    for (let left = n; left > 0; left -= Math.min(24, left)) this.take(Math.min(24, left));
  }

  read(width: number): number {
    if (width <= 24) return width === 0 ? 0 : this.take(width);
    let value = 0;
    for (let rem = width; rem > 0;) {
      const k = Math.min(24, rem);
      rem -= k;
      value = value * POW2[k]! + this.take(k);
    }
    return value;
  }

  /** k ≤ 24 bits. The accumulator holds fewer than 8 bits between calls, so 32-bit integer ops suffice. */
  private take(k: number): number {
    while (this.bits < k) {
      this.acc = ((this.acc << 8) | this.input.byte()) >>> 0;
      this.bits += 8;
    }
    this.bits -= k;
    const chunk = this.acc >>> this.bits;
    this.acc &= (1 << this.bits) - 1;
    return chunk;
  }
}
