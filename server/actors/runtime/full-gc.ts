import v8 from "node:v8";
import vm from "node:vm";

let gc: (() => void) | undefined;

/**
 * A full V8 collection of the calling thread, without starting node with --expose-gc (which
 * every launcher would have to pass): the flag set now exposes `gc` to contexts created
 * after it, as Jest does for --logHeapUsage.
 *
 * Two passes: a dead request's buffers can be held by a native handle that lets go of them
 * only in its weak callback, run during the first pass, so only a second frees them (one
 * pass freed none of the main thread's 170–200 MiB of refused reports after four bursts;
 * two freed them all). Costs ≈ 20–150 ms of this thread.
 */
export function fullGc(): void {
  if (!gc) {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as () => void;
  }
  gc();
  gc();
}
