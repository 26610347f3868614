import test from "ava";
import { down, up, type Check, type CheckResult } from "../agent/checks/check.ts";
import type { CheckDefinition } from "../agent/checks/definitions.ts";
import { DueQueue, firstDueAt, nextDueAt, type Slot } from "../agent/checks/schedule.ts";
import { ABORT_GRACE_MS, CheckScheduler } from "../agent/checks/scheduler.ts";
import { FakeClock } from "./helpers/fake-clock.ts";

const T0 = 1_700_000_000_000;

function def(name: string, interval_secs: number, timeout_ms = 1000): CheckDefinition {
  return { name, type: "tcp", target: "127.0.0.1", interval_secs, timeout_ms, traceroute_on_failure: false, label: "127.0.0.1:1", options: {} };
}

/** A scheduler over `checks` on a fake clock, recording each result with its start time (relative to T0). */
function harness(checks: Array<[CheckDefinition, Check]>, maxConcurrent = 4) {
  const clock = new FakeClock(T0);
  const results: Array<{ name: string; at: number; result: CheckResult }> = [];
  const scheduler = new CheckScheduler(checks.map(([definition, check]) => ({ definition, check })), {
    clock, maxConcurrent, onResult: (d, result, at) => results.push({ name: d.name, at: at - T0, result }),
  });
  return { clock, results, scheduler, starts: (name: string) => results.filter((r) => r.name === name).map((r) => r.at) };
}

const instant: Check = { probe: async () => up({ rtt_ms: 1 }) };
/** Answers only when aborted, the way a well-behaved probe times out. */
const hangsUntilAborted: Check = {
  probe: ({ signal, timeoutMs }) => new Promise((resolve) => signal.addEventListener("abort", () => resolve(down("timeout", `own timeout after ${timeoutMs} ms`)))),
};

/** Every slot the queue lets go at `nowMs`, at most `free`, in the order it gave them. */
function takeDue(queue: DueQueue, nowMs: number, free: number): Slot[] {
  const taken: Slot[] = [];
  for (let slot; taken.length < free && (slot = queue.takeDue(nowMs)); ) taken.push(slot);
  return taken;
}

test("pure: due checks earliest first, bounded by the free slots; a taken (running) one is not due until put back", (t) => {
  const queue = new DueQueue();
  const [a, b, c, d]: Slot[] = [
    { index: 0, intervalMs: 1000, dueAt: 30 },
    { index: 1, intervalMs: 1000, dueAt: 10 },
    { index: 2, intervalMs: 1000, dueAt: 0 },
    { index: 3, intervalMs: 1000, dueAt: 99 },
  ];
  for (const slot of [a!, b!, c!, d!]) queue.push(slot);
  t.deepEqual(takeDue(queue, 50, 1).map((s) => s.index), [2], "running from now on");
  t.is(queue.nextWake(), 10);
  t.deepEqual(takeDue(queue, 50, 0), []);
  t.deepEqual(takeDue(queue, 50, 4).map((s) => s.index), [1, 0]);
  t.is(queue.nextWake(), 99);
  queue.push(c!);
  t.is(queue.nextWake(), 0, "put back, it is the earliest again");
  t.deepEqual(takeDue(queue, 1000, 9).map((s) => s.index), [2, 3]);
  t.is(queue.nextWake(), undefined);
});

test("pure: the queue gives the earliest due first (list order on ties), as a full sort would, for any number free", (t) => {
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const slots: Slot[] = Array.from({ length: 300 }, (_, index) => ({ index, intervalMs: 1000, dueAt: Math.floor(random() * 200) * 10 }));
  for (const free of [1, 2, 5, 50, 400]) {
    const queue = new DueQueue();
    for (const slot of slots) queue.push(slot);
    const sorted = slots.filter((s) => s.dueAt <= 1000).sort((x, y) => x.dueAt - y.dueAt || x.index - y.index).slice(0, free);
    t.deepEqual(takeDue(queue, 1000, free).map((s) => s.index), sorted.map((s) => s.index), `free ${free}`);
    t.is(queue.size, 300 - Math.min(free, slots.filter((s) => s.dueAt <= 1000).length));
  }
});

test("pure: the schedule does not drift, and missed starts are skipped, not run back to back", (t) => {
  t.is(nextDueAt(0, 1000, 40), 1000);
  t.is(nextDueAt(0, 1000, 1000), 2000);
  t.is(nextDueAt(0, 1000, 3500), 4000);
  t.deepEqual([0, 1, 2, 3].map((i) => firstDueAt(i, 4, 30_000, 0)), [0, 250, 500, 750]);
  t.deepEqual([0, 1].map((i) => firstDueAt(i, 2, 200, 0)), [0, 100]);
});

test("each check runs on its own interval, with no real time passing", async (t) => {
  const h = harness([[def("fast", 10), instant], [def("slow", 30), instant]]);
  h.scheduler.start();
  await h.clock.advance(60_000);
  t.deepEqual(h.starts("fast"), [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000]);
  t.deepEqual(h.starts("slow"), [500, 30_500]);
  await h.scheduler.stop();
  await h.clock.advance(60_000);
  t.is(h.results.length, 9, "nothing runs after stop");
});

test("concurrency is bounded: with one slot, hung probes run one after another, each cut at its timeout", async (t) => {
  const h = harness([[def("a", 30, 1000), hangsUntilAborted], [def("b", 30, 1000), hangsUntilAborted], [def("c", 30, 1000), hangsUntilAborted]], 1);
  h.scheduler.start();
  await h.clock.advance(5_000);
  t.deepEqual(h.results.map((r) => [r.name, r.at]), [["a", 0], ["b", 1000], ["c", 2000]]);
  t.true(h.results.every((r) => !r.result.up && r.result.reason?.message === "own timeout after 1000 ms"), "the probe's own timeout reason is kept");
  await h.scheduler.stop();
});

test("a probe that ignores the abort is reported as a timeout anyway; one that throws is down with its reason; both run again", async (t) => {
  const ignores: Check = { probe: () => new Promise<CheckResult>(() => undefined) };
  const throws: Check = { probe: () => { throw new Error("boom"); } };
  const h = harness([[def("stuck", 10, 2000), ignores], [def("broken", 10), throws]]);
  h.scheduler.start();
  await h.clock.advance(2000 + ABORT_GRACE_MS);
  const stuck = h.results.find((r) => r.name === "stuck")!;
  t.deepEqual(stuck.result.reason, { code: "timeout", message: "no result within timeout_ms (2000 ms)" });
  const broken = h.results.find((r) => r.name === "broken")!;
  t.deepEqual(broken.result.reason, { code: "error", message: "the tcp check threw: boom" });
  await h.clock.advance(10_000);
  t.deepEqual(h.starts("stuck"), [0, 10_000]);
  t.deepEqual(h.starts("broken"), [500, 10_500]);
  await h.scheduler.stop();
});

test("stop aborts the probes in flight and waits for them", async (t) => {
  const h = harness([[def("a", 30, 20_000), hangsUntilAborted]]);
  h.scheduler.start();
  await h.clock.advance(100);
  await h.scheduler.stop();
  t.is(h.results.length, 1);
  t.is(h.results[0]!.result.reason?.code, "timeout");
});
