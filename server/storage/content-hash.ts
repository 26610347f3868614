/**
 * A 32-bit hash of a raw record's content (its shape id and value bits), the last part of
 * its key: a report sent again lands on the same key, a different report at the same
 * instant on another one. MurmurHash3's mixing over 32-bit words, in JS: SHA-1 through
 * node:crypto cost ≈ 5 µs a report for the same 32 bits (the digest object, the native
 * calls), which was 4 % of an ingest thread.
 */
export function contentHash(id: string, values: Float64Array): number {
  let h = 0x9747b28c;
  for (let i = 0; i < id.length; i++) h = mix(h, id.charCodeAt(i));
  // Every bit of every value: -0 and 0, and NaN payloads, hash apart.
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  for (let i = 0; i < words.length; i++) h = mix(h, words[i]!);
  h ^= id.length + words.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
