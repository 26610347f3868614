import { createRequire } from "node:module";

type Binding = { trim: () => number } | { unavailable: string };
let binding: Binding | undefined;

/**
 * Gives the C heap's free pages back to the kernel (glibc's malloc_trim). After a burst of
 * large reports, glibc keeps what native code (lmdb-js, msgpackr, node's own buffers)
 * freed in the middle of its heap: 160–180 MiB resident for good, which only this call
 * returns. Returns false where it cannot be called (see mallocTrimUnavailable): the memory
 * then stays with the process, reusable.
 */
export function trimMalloc(): boolean {
  binding ??= bind();
  if (!("trim" in binding)) return false;
  binding.trim();
  return true;
}

/** Why trimMalloc does nothing here (the server logs it the first time a trim is due), or undefined when it works. */
export function mallocTrimUnavailable(): string | undefined {
  binding ??= bind();
  return "unavailable" in binding ? binding.unavailable : undefined;
}

function bind(): Binding {
  try {
    // Loaded only here, on the main thread: koffi is a native add-on, and a platform it has
    // no build for (or an install without optional packages) must cost the trim, not the server.
    const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
    const mallocTrim = koffi.load("libc.so.6").func("int malloc_trim(size_t pad)") as (pad: number) => number;
    return { trim: () => mallocTrim(0) };
  } catch (err) {
    return { unavailable: `${(err as Error).message.split("\n")[0]} (malloc_trim needs glibc and koffi's prebuilt add-on)` };
  }
}
