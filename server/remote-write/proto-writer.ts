import type { PromLabel } from "./labels.ts";

/*
 * The WriteRequest of proto/remote-write.proto, written by hand: a request holds thousands
 * of samples, and protobufjs' reflection encoder spent more than the rest of the sender on
 * them (an object per sample, then a pass to size and one to write). Here every series'
 * labels are encoded once per report shape, and a sample is a fixed 1 + 8 + 1 + varint
 * bytes. The tests decode the output with protobufjs and the .proto file.
 */

interface EncodableSeries { labels: PromLabel[]; samples: { value: number; timestamp: number }[]; encodedLabels?: Buffer | undefined }

const LEN = 2;
const tag = (field: number, wire: number) => (field << 3) | wire;
const TIMESERIES = tag(1, LEN);
const LABEL = tag(1, LEN);
const SAMPLE = tag(2, LEN);
const NAME = tag(1, LEN);
const VALUE = tag(2, LEN);
const SAMPLE_VALUE = tag(1, 1); // double
const SAMPLE_TIMESTAMP = tag(2, 0); // int64 varint

/** A series' `repeated Label labels = 1` fields. */
export function encodeLabels(labels: readonly PromLabel[]): Buffer {
  const sizes = labels.map(({ name, value }) => {
    const n = Buffer.byteLength(name), v = Buffer.byteLength(value);
    const body = 1 + varintSize(n) + n + 1 + varintSize(v) + v;
    return { n, v, body };
  });
  const out = Buffer.allocUnsafe(sizes.reduce((total, x) => total + 1 + varintSize(x.body) + x.body, 0));
  let at = 0;
  labels.forEach(({ name, value }, i) => {
    const { n, v, body } = sizes[i]!;
    out[at++] = LABEL;
    at = writeVarint(out, at, body);
    out[at++] = NAME;
    at = writeVarint(out, at, n);
    at += out.write(name, at);
    out[at++] = VALUE;
    at = writeVarint(out, at, v);
    at += out.write(value, at);
  });
  return out;
}

/** A whole WriteRequest (`repeated TimeSeries timeseries = 1`). */
export function encodeTimeseries(series: readonly EncodableSeries[]): Buffer {
  let size = 0;
  const bodies = series.map((s) => {
    const labels = s.encodedLabels ?? encodeLabels(s.labels);
    let body = labels.length;
    for (const x of s.samples) body += 1 + 1 + sampleSize(x.timestamp);
    size += 1 + varintSize(body) + body;
    return { labels, body };
  });
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  series.forEach((s, i) => {
    const { labels, body } = bodies[i]!;
    out[at++] = TIMESERIES;
    at = writeVarint(out, at, body);
    at += labels.copy(out, at);
    for (const x of s.samples) {
      out[at++] = SAMPLE;
      out[at++] = sampleSize(x.timestamp);
      out[at++] = SAMPLE_VALUE;
      out.writeDoubleLE(x.value, at);
      at += 8;
      out[at++] = SAMPLE_TIMESTAMP;
      at = writeVarint(out, at, x.timestamp);
    }
  });
  return out;
}

/** A Sample's bytes: the double field (1 + 8) and the timestamp field (1 + varint); under 128, one length byte. */
function sampleSize(timestamp: number): number {
  return 9 + 1 + varintSize(timestamp);
}

/** Bytes of a non-negative integer as a varint (up to 2^53: arithmetic, not 32-bit shifts). */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 128) {
    buf[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}
