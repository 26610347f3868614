import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { emptyFlow, type StageContext } from "../server/notify/pipeline.ts";
import { aggregateStage, placeAll, type GroupingOptions } from "../server/notify/stages/aggregate.ts";
import { routeStage } from "../server/notify/stages/route.ts";
import { DEFAULT_RETRY } from "../server/notify/stages/retry.ts";
import { ControlStore } from "../server/storage/control-store.ts";
import type { AlertEvent } from "../server/alerts/types.ts";
import type { Delivery, GroupState } from "../server/storage/notify-store.ts";
import { event } from "./helpers/alert-event.ts";

/** The aggregate stage's decisions, driven by a fake clock: no threads, no timers. */

const delivery = (fields: Partial<AlertEvent>, channel = "hook"): Delivery => {
  const e = event(fields);
  return { id: `${e.id}|${channel}`, channel_id: channel, event: e, group_id: "", status: "pending", attempts: 0, next_at: 0, created_at: 0, last_error: null };
};

/** Feeds events one call at a time, as passes would, keeping the groups between calls. */
function grouper(opts: GroupingOptions) {
  const stored = new Map<string, GroupState>();
  return (now: number, ...ds: Delivery[]) => {
    const { deliveries, groups } = placeAll(ds, (k) => stored.get(k), now, opts);
    for (const g of groups) stored.set(g.key, g);
    return deliveries.map((d) => [d.event.agent_id, d.group_id, d.next_at] as const);
  };
}

const DEFAULTS = { waitMs: 0, windowMs: 60_000 };

test("the first event of a quiet group is due at once; later ones in the window gather into one follow-up at its end", (t) => {
  const place = grouper(DEFAULTS);
  const [, first, firstDue] = place(1_000, delivery({ id: "a", agent_id: "web-1" }))[0]!;
  t.is(firstDue, 1_000, "not held for the window");
  const later = [...place(5_000, delivery({ id: "b", agent_id: "web-2" })), ...place(59_999, delivery({ id: "c", agent_id: "web-3" }))];
  t.deepEqual(later.map(([, id, due]) => [id, due]), [["hook|r1|firing|61000", 61_000], ["hook|r1|firing|61000", 61_000]], "one follow-up, due when the window ends");
  t.not(later[0]![1], first);
});

test("events arriving together open the group together: one first message", (t) => {
  const place = grouper(DEFAULTS);
  const placed = place(1_000, delivery({ id: "a", agent_id: "web-1" }), delivery({ id: "b", agent_id: "web-2" }));
  t.deepEqual(placed.map(([, id, due]) => [id, due]), [["hook|r1|firing|a", 1_000], ["hook|r1|firing|a", 1_000]]);
});

test("groups are per channel, rule and status: a resolution or another rule is a first event of its own", (t) => {
  const place = grouper(DEFAULTS);
  place(1_000, delivery({ id: "a" }));
  const placed = place(2_000,
    delivery({ id: "b", status: "resolved" }), delivery({ id: "c", rule_id: "r2" }), delivery({ id: "d" }, "mail"), delivery({ id: "e" }));
  t.deepEqual(placed.map(([, , due]) => due), [2_000, 2_000, 2_000, 61_000]);
});

test("a window with a follow-up opens another (one message per window while a rule flaps); a quiet window closes the group", (t) => {
  const place = grouper(DEFAULTS);
  place(0, delivery({ id: "a" }));
  place(10_000, delivery({ id: "b" })); // follow-up at 60 s
  t.deepEqual(place(70_000, delivery({ id: "c" })).map(([, , due]) => due), [120_000], "the window after a follow-up");
  t.deepEqual(place(200_000, delivery({ id: "d" })).map(([, id, due]) => [id, due]), [["hook|r1|firing|d", 200_000]], "after a quiet window: at once again");
});

test("group_wait holds the first message for company; no window makes every event its own message", (t) => {
  const waiting = grouper({ waitMs: 30_000, windowMs: 60_000 });
  waiting(0, delivery({ id: "a" }));
  t.deepEqual(waiting(29_000, delivery({ id: "b" })).map(([, id, due]) => [id, due]), [["hook|r1|firing|a", 30_000]], "joins the first message");
  t.deepEqual(waiting(31_000, delivery({ id: "c" })).map(([, , due]) => due), [90_000], "the follow-up, a window after the first message");
  const none = grouper({ waitMs: 0, windowMs: 0 });
  t.deepEqual([...none(0, delivery({ id: "a" })), ...none(0, delivery({ id: "b" }))].map(([, id, due]) => [id, due]),
    [["hook|r1|firing|a", 0], ["hook|r1|firing|b", 0]]);
});

test("the stage stores its decision and takes the events out of the outbox in one step; what is due passes on", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-aggregate-"));
  const control = new ControlStore(dir);
  t.teardown(async () => { await control.close(); rmSync(dir, { recursive: true, force: true }); });
  let now = 1_000;
  const ctx: StageContext = {
    now: () => now, store: control.notify, silences: [], alertSilences: [], stillFiring: () => true, countOutcome: () => undefined,
    policy: { ...DEFAULT_RETRY, maxAgeMs: 60_000 }, grouping: DEFAULTS,
    channels: new Map([["hook", { table: { id: "hook", type: "webhook", min_severity: "info", send_resolved: true }, sender: { send: async () => ({ ok: true, retryable: false, detail: "" }) } }]]),
  };
  const pass = async () => {
    control.env.resetReadTxn();
    const routed = await routeStage(ctx, emptyFlow({ events: control.notify.outboxEntries() }));
    return (await aggregateStage(ctx, routed)).deliveries.map((d) => d.event.agent_id);
  };
  await control.alerts.outbox.put([1, "a"], event({ id: "a", agent_id: "web-1" }));
  t.deepEqual(await pass(), ["web-1"], "the first event is due in the same pass");
  control.env.resetReadTxn();
  t.is(control.notify.outboxEntries().length, 0);
  await control.notify.finish(control.notify.dueDeliveries(now), now);
  now = 2_000;
  await control.alerts.outbox.put([2, "b"], event({ id: "b", agent_id: "web-2" }));
  t.deepEqual(await pass(), [], "the second waits for the window");
  now = 61_000;
  t.deepEqual(await pass(), ["web-2"], "due when the window ends");
  t.false(await control.notify.applyRouting({ consumed: [[2, "b"]], deliveries: [], groups: [] }), "an event already routed is not routed again");
});

test("the store's indexes: every firing delivery of an episode is found (one that got worse has two), and only due deliveries are read", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-notify-index-"));
  const control = new ControlStore(dir);
  t.teardown(async () => { await control.close(); rmSync(dir, { recursive: true, force: true }); });
  const store = control.notify;
  const warning = { ...delivery({ id: "w", episode_id: "ep", severity: "warning" }), next_at: 1_000 };
  const critical = { ...delivery({ id: "c", episode_id: "ep", severity: "critical" }), next_at: 5_000 };
  await store.update([warning, critical]);
  t.deepEqual(store.dueDeliveries(2_000).map((d) => d.id), [warning.id]);
  // The warning is retried later, then given up: the critical one still waits, and says so.
  await store.update([{ ...warning, next_at: 9_000 }]);
  t.deepEqual(store.dueDeliveries(6_000).map((d) => d.id), [critical.id], "moved: due at its new time only");
  await store.finish([warning], null);
  t.is(store.firingDelivery("ep", "hook")?.id, critical.id);
  await store.finish([critical], 7_000);
  t.is(store.firingDelivery("ep", "hook"), undefined);
  t.deepEqual(store.dueDeliveries(Number.MAX_SAFE_INTEGER), []);
});
