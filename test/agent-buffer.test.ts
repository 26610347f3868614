import test from "ava";
import { status } from "@grpc/grpc-js";
import { BatchBuffer } from "../agent/buffer.ts";
import { backoffDelayMs, verdictFor } from "../agent/retry-policy.ts";

const drain = <T>(b: BatchBuffer<T>): T[] => {
  const out: T[] = [];
  for (let item = b.shift(); item !== undefined; item = b.shift()) out.push(item);
  return out;
};

test("first in, first out", (t) => {
  const b = new BatchBuffer<number>(5);
  t.is(b.peek(), undefined);
  t.is(b.shift(), undefined);
  for (const n of [1, 2, 3]) t.is(b.push(n), undefined);
  t.is(b.size, 3);
  t.is(b.peek(), 1);
  t.is(b.size, 3);
  t.deepEqual(drain(b), [1, 2, 3]);
  t.is(b.size, 0);
  t.is(b.dropped, 0);
});

test("when full, the oldest is dropped first and counted", (t) => {
  const b = new BatchBuffer<number>(3);
  const evicted: (number | undefined)[] = [];
  for (let n = 1; n <= 7; n++) evicted.push(b.push(n));
  t.deepEqual(evicted, [undefined, undefined, undefined, 1, 2, 3, 4]);
  t.is(b.size, 3);
  t.is(b.dropped, 4);
  t.deepEqual(drain(b), [5, 6, 7]);
  t.is(b.dropped, 4);
});

test("order survives wrapping around the ring many times", (t) => {
  const b = new BatchBuffer<number>(4);
  const out: number[] = [];
  for (let n = 1; n <= 50; n++) {
    b.push(n);
    if (n % 3 === 0) out.push(b.shift()!);
  }
  out.push(...drain(b));
  // 50 pushed, 4 kept at the end; dropped ones are the oldest at each moment.
  t.deepEqual(out, [...out].sort((x, y) => x - y));
  t.is(out.length + b.dropped, 50);
  t.deepEqual(out.slice(-4), [47, 48, 49, 50]);
});

test("unshift puts a batch back as the oldest; when full it is the one dropped", (t) => {
  const b = new BatchBuffer<number>(3);
  b.push(1);
  b.push(2);
  const head = b.shift()!;
  t.true(b.unshift(head));
  t.deepEqual(drain(b), [1, 2]);

  b.push(10);
  const inFlight = b.shift()!;
  b.push(11);
  b.push(12);
  b.push(13);
  t.false(b.unshift(inFlight));
  t.is(b.dropped, 1);
  t.deepEqual(drain(b), [11, 12, 13]);
});

test("capacity must be a positive integer", (t) => {
  t.throws(() => new BatchBuffer(0), { instanceOf: RangeError });
  t.throws(() => new BatchBuffer(1.5), { instanceOf: RangeError });
});

test("backoff grows exponentially to the cap, jittered between half and all of each step", (t) => {
  const policy = { baseMs: 500, capMs: 30_000 };
  t.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 20].map((a) => backoffDelayMs(a, policy, () => 1)), [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  t.deepEqual([1, 2, 7].map((a) => backoffDelayMs(a, policy, () => 0)), [250, 500, 15_000]);
});

test("only INVALID_ARGUMENT drops a batch; every other failure keeps it", (t) => {
  t.is(verdictFor(status.OK), "accepted");
  t.is(verdictFor(status.INVALID_ARGUMENT), "rejected");
  for (const code of [status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.DEADLINE_EXCEEDED, status.UNAUTHENTICATED,
    status.PERMISSION_DENIED, status.INTERNAL, status.UNKNOWN, status.CANCELLED]) {
    t.is(verdictFor(code), "retry", status[code]);
  }
});
