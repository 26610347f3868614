import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Notifier } from "../server/notify/notifier.ts";
import { DEFAULT_RETRY } from "../server/notify/stages/retry.ts";
import type { Notification } from "../server/notify/types.ts";
import { ControlStore } from "../server/storage/control-store.ts";
import { Lease } from "../server/storage/lease.ts";
import { event } from "./helpers/alert-event.ts";

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
    policy: { ...DEFAULT_RETRY, maxAgeMs: 60_000 }, aggregationWindowMs: 0, timeoutMs: 1000,
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
