import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import test from "ava";
import type { Worker } from "node:worker_threads";
import { collectEverywhere } from "../server/actors/runtime/collect-garbage.ts";
import { spawnWorker } from "../server/actors/runtime/spawn-worker.ts";

const fixture = new URL("./fixtures/collect-garbage-worker.ts", import.meta.url);

function start(answers: boolean): { worker: Worker; said: (what: string) => Promise<void> } {
  const worker = spawnWorker(fixture, { workerData: { answers } });
  const heard: string[] = [];
  const waiting = new Map<string, () => void>();
  worker.on("message", (m: string) => { heard.push(m); waiting.get(m)?.(); });
  // Bounded: a thread that never says it fails the test with the reason, not ava's timeout.
  const said = (what: string) => heard.includes(what) ? Promise.resolve() : new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker did not say '${what}' within 30 s (heard: ${heard.join(", ") || "nothing"})`)), 30_000);
    waiting.set(what, () => { clearTimeout(timer); resolve(); });
  });
  return { worker, said };
}

test("collectEverywhere runs a full collection in every worker thread that answers collections", async (t) => {
  const listening = start(true), control = start(false);
  t.teardown(async () => { await Promise.all([listening.worker.terminate(), control.worker.terminate()]); });
  await Promise.all([listening.said("ready"), control.said("ready")]);

  const steps: string[] = [];
  collectEverywhere({ stillQuiet: () => false, done: (step) => steps.push(step), cannotTrim: () => {} });
  await listening.said("collected");
  t.deepEqual(steps, ["collect"]);

  // The thread that does not listen still holds its garbage: only the request collected it.
  control.worker.postMessage("still-held?");
  const [answer] = await once(control.worker, "message") as [string];
  t.is(answer, "held");
});

test("every worker thread of the server answers collections", (t) => {
  const actors = new URL("../server/actors/", import.meta.url);
  const workers = readdirSync(actors, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".worker.ts"));
  t.true(workers.length >= 6, `found ${workers.join(", ")}`);
  const silent = workers.filter((f) => !/^answerCollections\(\);$/m.test(readFileSync(new URL(f, actors), "utf8")));
  t.deepEqual(silent, [], "each *.worker.ts calls answerCollections() as it starts (collect-garbage.ts)");
});
