import v8 from "node:v8";
import vm from "node:vm";

let gc: (() => void) | undefined;

/**
 * A full V8 collection of the calling thread, without starting node with --expose-gc (which
 * every launcher would have to pass): the flag set now exposes `gc` to contexts created
 * after it, as Jest does for --logHeapUsage.
 *
 * Two passes: one freed none of the main thread's 170–200 MiB of refused reports after four
 * bursts, two freed them all (most likely they hang off native handles let go in the first
 * pass's weak callbacks; which handle was not pinned down). Costs ≈ 20–150 ms of this thread.
 */
export function fullGc(): void {
  if (!gc) {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as () => void;
  }
  gc();
  gc();
}
