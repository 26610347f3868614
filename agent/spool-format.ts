/*
 * One spooled report on disk: a 16-byte header, then the payload.
 *
 *   u32 LE  payload length
 *   u32 LE  CRC-32 of the sequence bytes and the payload
 *   f64 LE  sequence number (an integer below 2^53)
 *   ...     payload (the report as UTF-8 JSON)
 *
 * A record cut short by a crash, or whose CRC does not match, ends what can be read of its
 * segment: everything before it is intact (records are appended, never rewritten).
 */

import zlib from "node:zlib";

export const HEADER_BYTES = 16;
/** A report is at most a few MB (the server's limit is lower): a larger length is garbage. */
export const MAX_PAYLOAD_BYTES = 64 * 2 ** 20;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (IEEE, as zlib and gzip), continued from `crc` over `bytes`: zlib's own where
 * Node has it (20.15 and later; the agent runs with V8's optimizing compilers off, and
 * this loop over a report of a thousand checks' samples took ~25 ms), else in JavaScript.
 */
export const crc32: (bytes: Uint8Array, crc?: number) => number = (zlib as { crc32?: typeof zlib.crc32 }).crc32 ?? crc32InJs;

/** The table-driven CRC-32 for Node before 20.15. */
export function crc32InJs(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

export function encodeRecord(sequence: number, payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeDoubleLE(sequence, 8);
  record.set(payload, HEADER_BYTES);
  record.writeUInt32LE(crc32(record.subarray(8)), 4);
  return record;
}

export interface ReadRecord {
  sequence: number;
  /** Where the record starts in its segment, and its whole length (header included). */
  offset: number;
  length: number;
}

/**
 * The intact records at the start of a segment's bytes, and where the readable part ends
 * (the file's length when nothing is torn or corrupt).
 */
export function scanRecords(bytes: Buffer): { records: ReadRecord[]; end: number } {
  const records: ReadRecord[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    if (length > MAX_PAYLOAD_BYTES || at + HEADER_BYTES + length > bytes.length) break;
    if (crc32(bytes.subarray(at + 8, at + HEADER_BYTES + length)) !== bytes.readUInt32LE(at + 4)) break;
    const sequence = bytes.readDoubleLE(at + 8);
    if (!Number.isSafeInteger(sequence) || sequence < 1) break;
    records.push({ sequence, offset: at, length: HEADER_BYTES + length });
    at += HEADER_BYTES + length;
  }
  return { records, end: at };
}

/** The payload of a record read back whole (header included). */
export function payloadOf(record: Buffer): Buffer {
  return record.subarray(HEADER_BYTES);
}
