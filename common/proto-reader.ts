/*
 * A reader of protobuf's wire format, for the few messages tsmon decodes by hand (the
 * agent's acknowledgements, the server's columnar reports): a schema library costs the
 * agent megabytes of memory and the server a JS object per field of every report.
 * Every read checks its bounds: truncated or malformed input throws ProtoError.
 */

export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

export class ProtoError extends Error {}

export class ProtoReader {
  pos: number;

  constructor(readonly bytes: Uint8Array, start = 0, readonly end = bytes.length) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's tag as [field number, wire type]. */
  tag(): [field: number, wireType: number] {
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    if (field === 0) throw new ProtoError("field number 0");
    return [field, tag % 8];
  }

  /** Up to ten bytes; values past 2^53 lose precision, which no field read here can reach. */
  varint(): number {
    let value = 0;
    for (let shift = 1, i = 0; i < 10; i++, shift *= 0x80) {
      const byte = this.byte();
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
    }
    throw new ProtoError("malformed varint");
  }

  /** A zigzag-encoded sint64 (magnitudes below 2^53). */
  sint(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  double(): number {
    this.need(8);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }

  /** A length-delimited field's payload as [start, end) of `bytes`. */
  span(): [start: number, end: number] {
    const length = this.varint();
    this.need(length);
    const start = this.pos;
    this.pos += length;
    return [start, this.pos];
  }

  string(): string {
    const [start, end] = this.span();
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, end - start).toString("utf8");
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === FIXED64) this.advance(8);
    else if (wireType === LENGTH_DELIMITED) this.span();
    else if (wireType === FIXED32) this.advance(4);
    else throw new ProtoError(`unsupported wire type ${wireType}`);
  }

  private advance(n: number): void {
    this.need(n);
    this.pos += n;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new ProtoError("truncated message");
  }

  private byte(): number {
    if (this.pos >= this.end) throw new ProtoError("truncated message");
    return this.bytes[this.pos++]!;
  }
}
