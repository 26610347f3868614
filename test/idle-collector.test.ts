import test from "ava";
import { IdleCollector, type IdleTimers } from "../server/actors/runtime/idle-collector.ts";

/** Timers run by hand: `elapse(ms)` fires what is due. */
function fakeTimers() {
  let now = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  let next = 0;
  const timers: IdleTimers = {
    now: () => now,
    set: (fn, ms) => { pending.set(++next, { at: now + ms, fn }); },
  };
  /** Moves the clock `ms` on in steps of 100 ms, firing each timer when it is due. */
  const elapse = (ms: number) => {
    for (const end = now + ms; now < end;) {
      now = Math.min(end, now + 100);
      for (const [id, { at, fn }] of [...pending]) if (at <= now) { pending.delete(id); fn(); }
    }
  };
  return { timers, elapse, pending: () => pending.size };
}

test("collects once the bytes let go reach the threshold and a quiet time has passed, not before", (t) => {
  const { timers, elapse, pending } = fakeTimers();
  let collections = 0;
  const collector = new IdleCollector({ afterBytes: 100, idleMs: 1_000, collect: () => collections++, timers });
  collector.letGo(60);
  elapse(5_000);
  t.is(collections, 0, "below the threshold: nothing to gain");
  t.is(pending(), 0);
  collector.letGo(60);
  elapse(900);
  collector.letGo(10); // the burst goes on: the quiet time starts again
  elapse(900);
  t.is(collections, 0, "never in the middle of a burst");
  t.is(pending(), 1, "one timer, however many requests");
  elapse(100);
  t.is(collections, 1);
  t.is(pending(), 0);
  collector.letGo(50);
  elapse(5_000);
  t.is(collections, 1, "the count starts again after a collection");
  collector.letGo(50);
  elapse(1_000);
  t.is(collections, 2);
});

test("waits while requests are still in flight, and says how long it has been quiet", (t) => {
  const { timers, elapse } = fakeTimers();
  let collections = 0, inFlight = 1;
  const collector = new IdleCollector({ afterBytes: 100, idleMs: 1_000, busy: () => inFlight > 0, collect: () => collections++, timers });
  collector.letGo(150);
  t.false(collector.quietFor(500));
  elapse(5_000);
  t.is(collections, 0, "a slow answer is still on its way: not quiet");
  t.true(collector.quietFor(5_000));
  inFlight = 0;
  elapse(300);
  t.is(collections, 1, "collects soon after the last answer went out");
});
