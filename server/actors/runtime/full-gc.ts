import v8 from "node:v8";
import vm from "node:vm";

let gc: (() => void) | undefined;

/**
 * A full V8 collection of the calling thread, without starting node with --expose-gc (which
 * every launcher would have to pass): the flag set now exposes `gc` to contexts created
 * after it, as Jest does for --logHeapUsage.
 *
 * Two passes: a dead request's buffers are often held by a native handle (an HTTP/2
 * stream's) that lets go of them in its weak callback during the first pass, so only a
 * second frees them (one pass left the main thread's 170–200 MiB of refused reports for
 * another 50 s). Costs ≈ 20–150 ms of this thread.
 */
export function fullGc(): void {
  if (!gc) {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as () => void;
  }
  gc();
  gc();
}
