import test from "ava";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Notifier } from "../server/actors/notifier/notifier.ts";
import { DEFAULT_RETRY } from "../server/notify/stages/retry.ts";
import type { Notification } from "../server/notify/types.ts";
import { ControlStore } from "../server/storage/control-store.ts";
import { Lease } from "../server/storage/lease.ts";
import { event } from "./helpers/alert-event.ts";
import { HttpReceiver } from "./helpers/http-receiver.ts";
import { until } from "./helpers/server.ts";

function store(t: import("ava").ExecutionContext): ControlStore[] {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-notifier-"));
  const stores = [new ControlStore(dir), new ControlStore(dir)];
  t.teardown(async () => {
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return stores;
}

test("concurrent ticks (a kick per event) send each due message once", async (t) => {
  const [control] = store(t) as [ControlStore];
  const sent: Notification[] = [];
  const notifier = new Notifier({
    store: control.notify, alerts: control.alerts, now: Date.now, isLeader: async () => true,
    policy: { ...DEFAULT_RETRY, maxAgeMs: 60_000 }, grouping: { waitMs: 0, windowMs: 0 }, timeoutMs: 1000,
  });
  notifier.setChannels([{ id: "hook", type: "webhook", url: "http://127.0.0.1:9/x", min_severity: "info", send_resolved: true } as never]);
  // Swap the HTTP sender for a counting one: this test is about the pipeline, not the channel.
  (notifier as unknown as { channels: Map<string, { sender: unknown }> }).channels.get("hook")!.sender = {
    send: async (n: Notification) => { sent.push(n); await new Promise((r) => setTimeout(r, 20)); return { ok: true, retryable: false, detail: "ok" }; },
  };
  await control.alerts.outbox.put([1, "e1"], event({ id: "e1" }));
  await control.alerts.outbox.put([2, "e2"], event({ id: "e2", agent_id: "web-2" }));
  await Promise.all(Array.from({ length: 8 }, () => notifier.tick()));
  await notifier.tick();
  t.deepEqual(sent.map((n) => n.events.map((e) => e.agent_id)).sort(), [["web-1"], ["web-2"]], "one message per event, each once");
});

test("a slow channel holds up only its own messages: a new event reaches the other channel meanwhile, and nothing is sent twice", async (t) => {
  const [control] = store(t) as [ControlStore];
  const fast = await HttpReceiver.start();
  t.teardown(() => fast.stop());
  // A webhook that takes each message and answers only when the test lets it.
  const slowBodies: string[] = [];
  const held: http.ServerResponse[] = [];
  const slow = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => { slowBodies.push(body); held.push(res); });
  });
  await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
  const release = () => { for (const res of held.splice(0)) res.writeHead(200).end("{}"); };
  t.teardown(() => { release(); slow.closeAllConnections(); slow.close(); });
  const notifier = new Notifier({
    store: control.notify, alerts: control.alerts, now: Date.now, isLeader: async () => true,
    policy: { ...DEFAULT_RETRY, maxAgeMs: 60_000 }, grouping: { waitMs: 0, windowMs: 0 }, timeoutMs: 30_000,
  });
  const hook = (id: string, url: string) => ({ id, type: "webhook", url, min_severity: "info", send_resolved: true }) as never;
  notifier.setChannels([hook("slow", `http://127.0.0.1:${(slow.address() as AddressInfo).port}/hook`), hook("fast", fast.url())]);

  await control.alerts.outbox.put([1, "e1"], event({ id: "e1", episode_id: "e1" }));
  const first = notifier.tick();
  await until("e1 at both channels", async () => (slowBodies.length === 1 && fast.requests.length === 1) || undefined, 10_000);
  await control.alerts.outbox.put([2, "e2"], event({ id: "e2", episode_id: "e2", agent_id: "web-2" }));
  // A kick for e2 while the slow channel still holds e1: the pass answers once its sends are
  // started (the worker's reply to a kick), not when the slow channel answers.
  const started = await Promise.race([
    notifier.pass(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the pass waited for the slow channel")), 10_000)),
  ]);
  // Old behaviour: the second pass gave way to the first, so e2 waited for the slow answer.
  await until("e2 at both channels while the slow one holds e1", async () => (fast.requests.length === 2 && slowBodies.length === 2) || undefined, 10_000);
  release();
  await Promise.all([first, started.sent, notifier.tick()]);
  const agents = (bodies: unknown[]) => bodies.map((b) => JSON.stringify(b).match(/web-\d/)![0]).sort();
  t.deepEqual(agents(fast.requests.map((r) => r.body)), ["web-1", "web-2"]);
  t.deepEqual(agents(slowBodies), ["web-1", "web-2"], "each once, though passes overlapped");
});

test("a lease has one holder at a time and passes on when it expires or is released", async (t) => {
  const [a, b] = store(t) as [ControlStore, ControlStore];
  const la = new Lease(a.leases, "job", 1_000), lb = new Lease(b.leases, "job", 1_000);
  const both = await Promise.all([la.acquire(10_000), lb.acquire(10_000)]);
  t.deepEqual(both.filter(Boolean).length, 1, "exactly one wins");
  const [winner, loser] = both[0] ? [la, lb] : [lb, la];
  t.true(await winner.acquire(10_500), "the holder renews");
  t.false(await loser.acquire(11_000), "not expired yet (renewed at 10.5 s)");
  t.true(await loser.acquire(11_600), "expired: taken over");
  await loser.release();
  t.true(await winner.acquire(11_700), "released: free again");
});
