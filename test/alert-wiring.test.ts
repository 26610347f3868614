import test from "ava";
import { once } from "node:events";
import type { MessagePort } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { AlertWiring, type WiredShard } from "../server/actors/evaluator/alert-wiring.ts";
import { TsmonError } from "../common/errors.ts";

type PortMessage = { type: string; shard?: number; port: MessagePort };

/**
 * A shard stand-in that keeps the ports it is given. Like SupervisedWorker with a full
 * mailbox, it refuses the first `refusals` requests without taking their port.
 */
class FakeShard implements WiredShard<PortMessage> {
  alive = true;
  onRestarted?: () => void;
  readonly ports = new Map<string, MessagePort>();
  /** Ports this shard took that were closed from the other end. */
  readonly closed: MessagePort[] = [];
  requests = 0;
  constructor(private refusals = 0, private readonly error: () => Error = () => new TsmonError("RESOURCE_EXHAUSTED", "mailbox is full", true)) {}

  async request(msg: PortMessage): Promise<unknown> {
    this.requests++;
    if (!this.alive) throw new TsmonError("UNAVAILABLE", "restarting", true);
    if (this.refusals > 0) {
      this.refusals--;
      throw this.error();
    }
    const key = `${msg.type}:${msg.shard ?? ""}`;
    this.ports.get(key)?.close();
    this.ports.set(key, msg.port);
    msg.port.once("close", () => this.closed.push(msg.port));
    return { type: "connected" };
  }

  close(): void {
    for (const port of this.ports.values()) port.close();
  }
}

const fast = { retryMs: 1, maxRetryMs: 2 };
type WiringLog = ConstructorParameters<typeof AlertWiring>[3];
const quiet: WiringLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

function wire(window: FakeShard, evaluator: FakeShard, times = fast, log = quiet) {
  const wiring = new AlertWiring({ shards: [window] }, { shards: [evaluator] }, () => undefined, log, times);
  return { wiring, done: () => { wiring.close(); window.close(); evaluator.close(); } };
}

/** True when the window's port to the evaluator and the evaluator's port from the window are two ends of one channel. */
async function paired(window: FakeShard, evaluator: FakeShard): Promise<boolean> {
  const out = window.ports.get("evaluator-port:0"), into = evaluator.ports.get("window-port:0");
  if (!out || !into) return false;
  const gaveUp = new AbortController();
  const got = Promise.race([once(into, "message").then(([m]) => m), sleep(10_000, undefined, { signal: gaveUp.signal }).catch(() => undefined)]);
  out.postMessage("observation");
  const answer = await got;
  gaveUp.abort();
  return answer === "observation";
}

test("a window shard that refuses its port many times is wired once it takes one: its observations reach the evaluator", async (t) => {
  const window = new FakeShard(30), evaluator = new FakeShard();
  const { wiring, done } = wire(window, evaluator);
  await wiring.start();
  t.true(await paired(window, evaluator));
  t.is(window.requests, 31);
  done();
});

test("when only the evaluator refuses, the end the window took is closed at once (it holds its reports until a new pair)", async (t) => {
  const window = new FakeShard(), evaluator = new FakeShard(2); // refuses the events port and the window's channel
  const { wiring, done } = wire(window, evaluator, { retryMs: 200, maxRetryMs: 200 });
  const started = wiring.start();
  await sleep(50); // backing off
  const taken = window.ports.get("evaluator-port:0");
  t.truthy(taken, "the window took its end");
  t.deepEqual(window.closed, [taken], "and it was closed while the wiring backs off");
  await started;
  t.true(await paired(window, evaluator));
  t.true(evaluator.ports.has("events-port:"), "the refused events port was offered again");
  done();
});

test("a wiring superseded while it backs off makes no further attempt", async (t) => {
  const window = new FakeShard(1), evaluator = new FakeShard();
  const { wiring, done } = wire(window, evaluator, { retryMs: 200, maxRetryMs: 200 });
  const started = wiring.start(); // the window refuses its first channel: the wiring backs off 200 ms
  await sleep(50);
  const before = window.requests;
  window.onRestarted!(); // a newer wiring of the same pair, which succeeds at once
  await sleep(20);
  t.is(window.requests, before + 1);
  t.true(await paired(window, evaluator));
  await started; // the older one woke up, saw the newer one, and stopped
  t.is(window.requests, before + 1, "no attempt after it was superseded");
  done();
});

test("a shard that dies stops the wiring attempts (its restart wires it again)", async (t) => {
  const window = new FakeShard(1_000), evaluator = new FakeShard();
  const { wiring, done } = wire(window, evaluator);
  const started = wiring.start();
  await sleep(20);
  window.alive = false;
  await started;
  const requests = window.requests;
  await sleep(30);
  t.is(window.requests, requests);
  done();
});

test("an error that is not a refusal is logged once and not retried; close() ends a backoff at once", async (t) => {
  const errors: string[] = [];
  const window = new FakeShard(1, () => new Error("handler bug")), evaluator = new FakeShard();
  const log = { ...quiet, error: (_: object, msg: string) => void errors.push(msg) } as WiringLog;
  const { wiring, done } = wire(window, evaluator, fast, log);
  await wiring.start();
  t.is(window.requests, 1);
  t.is(errors.length, 1);
  t.regex(errors[0]!, /reach no rules until a shard restarts/);
  done();

  const slow = wire(new FakeShard(1_000), new FakeShard(), { retryMs: 60_000, maxRetryMs: 60_000 });
  const started = slow.wiring.start();
  await sleep(20);
  slow.done();
  t.is(await Promise.race([started.then(() => "ended"), sleep(1_000).then(() => "still waiting")]), "ended");
});
