import { BroadcastChannel } from "node:worker_threads";
import { fullGc } from "./full-gc.ts";
import { mallocTrimUnavailable, trimMalloc } from "./malloc-trim.ts";

/*
 * After a burst every thread that touched its reports holds their garbage: the main thread
 * the refused ones, ingest threads the decoded ones, window shards each report's series text.
 * An idle V8 isolate runs no full collection for tens of seconds, so the main thread, which
 * sees every report's bytes let go (IdleCollector), asks them all at once. One channel for
 * the whole process (tests run several servers in one): an extra collection harms nobody.
 */
const CHANNEL = "tsmon-collect-garbage";

/** How long after asking the threads to collect the C heap is trimmed: their collections
 *  (20–150 ms each, a dozen threads on two cores) have run by then. */
export const TRIM_AFTER_MS = 2_000;

/** Called once by every worker thread as it starts: collects when the main thread asks. */
export function answerCollections(): void {
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  channel.onmessage = () => fullGc();
}

let asking: BroadcastChannel | undefined;
let toldCannotTrim = false;

export interface CollectionSteps {
  /** Still quiet TRIM_AFTER_MS later: trims then (malloc_trim locks each arena in turn, so
   *  not while requests are being served again). */
  stillQuiet(): boolean;
  /** Hears each step taken (for the server's metrics). */
  done(step: "collect" | "trim"): void;
  /** Told once, the first time the trim cannot run here, why (for the log). */
  cannotTrim(reason: string): void;
}

/** The main thread: a full collection here and in every worker thread, then the C heap trimmed. */
export function collectEverywhere(steps: CollectionSteps): void {
  fullGc();
  if (!asking) {
    asking = new BroadcastChannel(CHANNEL);
    asking.unref();
  }
  asking.postMessage("collect");
  steps.done("collect");
  setTimeout(() => {
    if (!steps.stillQuiet()) return;
    if (trimMalloc()) steps.done("trim");
    else if (!toldCannotTrim) {
      toldCannotTrim = true;
      steps.cannotTrim(mallocTrimUnavailable() ?? "unknown");
    }
  }, TRIM_AFTER_MS).unref();
}
