import { BroadcastChannel } from "node:worker_threads";
import { fullGc } from "./full-gc.ts";
import { trimMalloc } from "./malloc-trim.ts";

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
const TRIM_AFTER_MS = 2_000;

/** Called once by every worker thread: collects when the main thread asks. */
export function answerCollections(): void {
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  channel.onmessage = () => fullGc();
}

let asking: BroadcastChannel | undefined;

/** The main thread: a full collection here and in every worker thread, then the C heap trimmed. */
export function collectEverywhere(): void {
  fullGc();
  if (!asking) {
    asking = new BroadcastChannel(CHANNEL);
    asking.unref();
  }
  asking.postMessage("collect");
  setTimeout(trimMalloc, TRIM_AFTER_MS).unref();
}
