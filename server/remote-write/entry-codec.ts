import type { SampleBlock } from "../../common/series-text.ts";

/** One report waiting in the remote-write queue. */
export interface QueuedReport { agentId: string; samples: SampleBlock }

/*
 * A queued report as bytes: [u32 points][u32 agent bytes][u32 series bytes][agent][series]
 * [pad to 8][f64 timestamps][f64 values], little-endian. Binary (not msgpack) so the queue
 * counts exactly the bytes it keeps, and the point count is read without decoding the rest.
 */
const HEADER = 12;

export function encodeReport(agentId: string, samples: SampleBlock): Buffer {
  const n = samples.values.length;
  const agentBytes = Buffer.byteLength(agentId);
  const seriesBytes = Buffer.byteLength(samples.series);
  const numbersAt = align8(HEADER + agentBytes + seriesBytes);
  const buf = Buffer.alloc(numbersAt + 16 * n);
  buf.writeUInt32LE(n, 0);
  buf.writeUInt32LE(agentBytes, 4);
  buf.writeUInt32LE(seriesBytes, 8);
  buf.write(agentId, HEADER);
  buf.write(samples.series, HEADER + agentBytes);
  const numbers = new Float64Array(buf.buffer, buf.byteOffset + numbersAt, 2 * n);
  numbers.set(samples.timestamps, 0);
  numbers.set(samples.values, n);
  return buf;
}

export function decodeReport(buf: Uint8Array): QueuedReport {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = b.readUInt32LE(0);
  const agentBytes = b.readUInt32LE(4);
  const seriesBytes = b.readUInt32LE(8);
  const agentId = b.toString("utf8", HEADER, HEADER + agentBytes);
  const series = b.toString("utf8", HEADER + agentBytes, HEADER + agentBytes + seriesBytes);
  const numbersAt = align8(HEADER + agentBytes + seriesBytes);
  // A copy: LMDB hands out buffers that may not be 8-aligned and are reused after the read.
  const numbers = new Float64Array(b.buffer.slice(b.byteOffset + numbersAt, b.byteOffset + numbersAt + 16 * n));
  return { agentId, samples: { series, timestamps: numbers.subarray(0, n), values: numbers.subarray(n) } };
}

/** The number of points in an encoded report, from its header alone. */
export function pointCount(buf: Uint8Array): number {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).readUInt32LE(0);
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
