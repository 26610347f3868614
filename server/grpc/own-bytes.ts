/**
 * The bytes of `view` in an ArrayBuffer of their own, ready to post to a worker thread.
 * grpc-js gathers each message with Buffer.concat, which takes one under 4 KiB from Node's
 * shared 8 KiB pool, and posting a view clones its whole ArrayBuffer: a 1 KiB report would
 * cross the thread boundary as 8 KiB, and a declaration kept for a stream's life would keep
 * its slab alive and be cloned whole with every report.
 */
export function ownBytes(view: Uint8Array): Uint8Array {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view : new Uint8Array(view);
}
