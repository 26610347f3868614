import koffi from "koffi";

let trim: (() => number) | null | undefined;

/**
 * Gives the C heap's free pages back to the kernel (glibc's malloc_trim). After a burst of
 * large reports, glibc keeps what native code (lmdb-js, msgpackr, node's own buffers)
 * freed in the middle of its heap: 160–180 MiB resident for good, which only this call
 * returns. A no-op where it cannot be called (musl, another libc): memory stays reusable.
 */
export function trimMalloc(): void {
  if (trim === undefined) trim = bindMallocTrim();
  trim?.();
}

function bindMallocTrim(): (() => number) | null {
  try {
    const mallocTrim = koffi.load("libc.so.6").func("int malloc_trim(size_t pad)") as (pad: number) => number;
    return () => mallocTrim(0);
  } catch {
    return null;
  }
}
