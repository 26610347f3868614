import test from "ava";
import { TurnBatcher } from "../server/actors/runtime/turn-batcher.ts";

test("what is submitted in one turn goes as one batch, split at the maximum; each submitter gets its own answer", async (t) => {
  const sent: number[][] = [];
  const batcher = new TurnBatcher<number, string>(3, async (items) => {
    sent.push(items);
    return items.map((n) => `answer ${n}`);
  });
  const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.submit(n)));
  t.deepEqual(sent, [[1, 2, 3], [4, 5]]);
  t.deepEqual(answers, ["answer 1", "answer 2", "answer 3", "answer 4", "answer 5"]);
  t.is(await batcher.submit(6), "answer 6", "a later turn starts a new batch");
  t.deepEqual(sent.at(-1), [6]);
});

test("a failed batch fails every submitter in it, and only those", async (t) => {
  let calls = 0;
  const batcher = new TurnBatcher<number, number>(10, async (items) => {
    if (calls++ === 0) throw new Error("worker gone");
    return items;
  });
  const first = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
  t.deepEqual(first.map((r) => r.status), ["rejected", "rejected"]);
  t.is((first[0] as PromiseRejectedResult).reason.message, "worker gone");
  t.is(await batcher.submit(3), 3);
});

test("with one batch out at most, later items wait and go together when it comes back; a full batch goes at once", async (t) => {
  const sent: number[][] = [];
  const answers: (() => void)[] = [];
  const batcher = new TurnBatcher<number, number>(3, (items) => {
    sent.push(items);
    return new Promise((resolve) => answers.push(() => resolve(items)));
  }, 1);
  const turn = () => new Promise((r) => setImmediate(r));
  const submitted = [batcher.submit(1)];
  await turn();
  t.deepEqual(sent, [[1]]);
  submitted.push(batcher.submit(2));
  await turn();
  submitted.push(batcher.submit(3));
  await turn();
  t.deepEqual(sent, [[1]], "items of later turns wait while the batch is out");
  submitted.push(batcher.submit(4));
  t.deepEqual(sent, [[1], [2, 3, 4]], "a full batch does not wait");
  submitted.push(batcher.submit(5));
  await turn();
  submitted.push(batcher.submit(6));
  await turn();
  t.deepEqual(sent, [[1], [2, 3, 4]]);
  answers[0]!();
  await turn();
  t.deepEqual(sent, [[1], [2, 3, 4]], "two batches out: still no room");
  answers[1]!();
  await turn();
  t.deepEqual(sent, [[1], [2, 3, 4], [5, 6]], "the waiting items go as one batch once a batch comes back");
  answers[2]!();
  t.deepEqual(await Promise.all(submitted), [1, 2, 3, 4, 5, 6]);
});

test("a send that throws fails its batch and leaves room for the next", async (t) => {
  let calls = 0;
  const batcher = new TurnBatcher<number, number>(10, (items) => {
    if (calls++ === 0) throw new Error("pool not started");
    return Promise.resolve(items);
  }, 1);
  await t.throwsAsync(batcher.submit(1), { message: "pool not started" });
  t.is(await batcher.submit(2), 2);
});
