import test from "ava";
import { once } from "node:events";
import type { MessagePort } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { AlertWiring, type WiredShard } from "../server/actors/alert-wiring.ts";
import { TsmonError } from "../common/errors.ts";

/** A shard stand-in that keeps the ports it is given, refusing the first `refusals` as a full mailbox would. */
class FakeShard implements WiredShard<{ type: string; shard?: number; port: MessagePort }> {
  alive = true;
  onRestarted?: () => void;
  readonly ports = new Map<string, MessagePort>();
  requests = 0;
  constructor(private refusals = 0) {}

  async request(msg: { type: string; shard?: number; port: MessagePort }): Promise<unknown> {
    this.requests++;
    if (!this.alive) throw new TsmonError("UNAVAILABLE", "restarting", true);
    if (this.refusals > 0) {
      this.refusals--;
      msg.port.close();
      throw new TsmonError("RESOURCE_EXHAUSTED", "mailbox is full", true);
    }
    const key = `${msg.type}:${msg.shard ?? ""}`;
    this.ports.get(key)?.close();
    this.ports.set(key, msg.port);
    return { type: "connected" };
  }

  close(): void {
    for (const port of this.ports.values()) port.close();
  }
}

const fast = { retryMs: 1, maxRetryMs: 2 };

/** True when the window's port to the evaluator and the evaluator's port from the window are two ends of one channel. */
async function paired(window: FakeShard, evaluator: FakeShard): Promise<boolean> {
  const out = window.ports.get("evaluator-port:0"), into = evaluator.ports.get("window-port:0");
  if (!out || !into) return false;
  const got = Promise.race([once(into, "message").then(([m]) => m), sleep(500).then(() => undefined)]);
  out.postMessage("observation");
  return (await got) === "observation";
}

test("a window shard that refuses its port many times is wired once it takes one: its observations reach the evaluator", async (t) => {
  const window = new FakeShard(30), evaluator = new FakeShard();
  const wiring = new AlertWiring({ shards: [window] }, { shards: [evaluator] }, () => undefined, fast);
  await wiring.start();
  t.true(await paired(window, evaluator));
  t.is(window.requests, 31);
  wiring.close(); window.close(); evaluator.close();
});

test("when only the evaluator refuses, the window's accepted end is replaced, not left without a peer", async (t) => {
  const window = new FakeShard(), evaluator = new FakeShard(3);
  const wiring = new AlertWiring({ shards: [window] }, { shards: [evaluator] }, () => undefined, fast);
  await wiring.start();
  t.true(await paired(window, evaluator));
  t.true(evaluator.ports.has("events-port:"), "the evaluator has its port for events");
  wiring.close(); window.close(); evaluator.close();
});

test("a restart during a retried wiring supersedes it: one pair, and no attempt left running", async (t) => {
  const window = new FakeShard(), evaluator = new FakeShard(6);
  const wiring = new AlertWiring({ shards: [window] }, { shards: [evaluator] }, () => undefined, { retryMs: 5, maxRetryMs: 5 });
  const started = wiring.start();
  await sleep(7);
  window.onRestarted!(); // a second wiring of the same pair begins while the first retries
  await started;
  await sleep(50);
  t.true(await paired(window, evaluator));
  const requests = window.requests;
  await sleep(50);
  t.is(window.requests, requests, "nothing still retrying");
  wiring.close(); window.close(); evaluator.close();
});

test("a shard that dies stops the wiring attempts (its restart wires it again)", async (t) => {
  const window = new FakeShard(1_000), evaluator = new FakeShard();
  const wiring = new AlertWiring({ shards: [window] }, { shards: [evaluator] }, () => undefined, fast);
  const started = wiring.start();
  await sleep(20);
  window.alive = false;
  await started;
  const requests = window.requests;
  await sleep(30);
  t.is(window.requests, requests);
  wiring.close(); window.close(); evaluator.close();
});
