import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DAY_MS, expiredDays } from "../server/storage/days.ts";
import { MetricStore } from "../server/storage/metric-store.ts";
import { PartitionSet } from "../server/storage/partitions.ts";
import { applyHistoryRetention, applyRetention } from "../server/storage/retention.ts";
import { tempControlStore } from "./helpers/temp-control.ts";
import type { Delivery } from "../server/storage/notify-store.ts";
import type { AlertEvent, AlertRule } from "../server/alerts/types.ts";
import { alertKeyString } from "../server/alerts/alert-state.ts";
import { transitionAll } from "../server/alerts/lifecycle.ts";
import { event } from "./helpers/alert-event.ts";

test("expiredDays keeps today and the retention_days − 1 days before", (t) => {
  const now = Date.parse("2026-11-23T12:00:00Z");
  const days = ["2026-11-15", "2026-11-16", "2026-11-17", "2026-11-22", "2026-11-23"];
  t.deepEqual(expiredDays(days, now, 7), ["2026-11-15", "2026-11-16"]);
  t.deepEqual(expiredDays(days, now, 1), ["2026-11-15", "2026-11-16", "2026-11-17", "2026-11-22"]);
});

test("retention deletes whole expired partitions and queries span the rest", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-ret-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const partitions = new PartitionSet(dir);
  const store = new MetricStore(partitions);
  const base = Date.parse("2026-11-10T12:00:00Z");
  for (let d = 0; d < 10; d++) {
    await store.write("a1", [{ timestampMs: base + d * DAY_MS, metric: "cpu.usage", value: d, labels: {} }]);
  }
  t.is(partitions.files.days().length, 10);
  // The injected clock says it is the 19th: with 3 days kept, the 17th-19th survive.
  const dropped = await applyRetention(partitions, Date.parse("2026-11-19T08:00:00Z"), 3);
  t.deepEqual(dropped, ["2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13", "2026-11-14", "2026-11-15", "2026-11-16"]);
  t.deepEqual(partitions.files.days(), ["2026-11-17", "2026-11-18", "2026-11-19"]);
  const series = store.query("a1", "cpu.usage", base, base + 10 * DAY_MS);
  t.deepEqual(series[0]!.points.map(([, v]) => v), [7, 8, 9]);
  // A range reaching back to 1970 visits only the partitions that exist.
  t.deepEqual(partitions.files.daysBetween(0, base + 8 * DAY_MS), ["2026-11-17", "2026-11-18"]);
  t.deepEqual(store.query("a1", "cpu.usage", 0, Date.parse("2026-11-17T23:59:59Z"))[0]!.points.map(([, v]) => v), [7]);
  await partitions.closeAll();
});

test("history retention deletes old alert events and delivery-log entries; a firing alert keeps what its resolution needs", async (t) => {
  const { control } = tempControlStore(t);
  const now = Date.parse("2026-11-23T12:00:00Z");
  const old = now - 400 * DAY_MS, recent = now - 10 * DAY_MS;
  const rule: AlertRule = {
    id: "r1", name: "high-cpu", type: "threshold", metric: "cpu.usage", agent_pattern: "*", labels: {}, severity: "critical",
    silence_secs: 0, enabled: true, operator: "gt", value: 90, duration_secs: 0, source: "api",
  };
  const observe = (agentId: string, state: "firing" | "inactive", ts: number) => {
    const item = {
      rule, key: { ruleId: "r1", agentId, metric: "cpu.usage", labels: {} },
      target: { state, severity: "critical" as const, ts, value: state === "firing" ? 95 : 50, threshold: 90, message: "m" },
    };
    return control.alerts.update([alertKeyString(item.key)], (stored) => transitionAll([item], stored));
  };
  const [stillFiring] = await observe("web-1", "firing", old); // began 400 days ago, never resolved
  const [over] = await observe("web-2", "firing", old);
  await observe("web-2", "inactive", old + 60_000);
  await observe("web-3", "firing", recent);
  const [waitingFiring] = await observe("web-4", "firing", old);
  const [waitingResolved] = await observe("web-4", "inactive", old + 60_000); // its message still waits (a silence, retries)
  const delivered = (e: AlertEvent): Delivery => ({
    id: `${e.id}-hook`, channel_id: "hook", event: e, group_id: e.id, status: "pending", attempts: 1, next_at: old, created_at: old, last_error: null,
  });
  await control.notify.finish([delivered(stillFiring!), delivered(over!), delivered(waitingFiring!)], old + 1_000);
  await control.notify.update([delivered(waitingResolved!)]);
  const entry = (ts: number) => ({ ts, channel_id: "hook", notification_id: `n-${ts}`, status: "sent" as const, attempt: 1, http_status: 200, detail: "ok", events: [] });
  await control.notify.appendLog(entry(old + 1_000));
  await control.notify.appendLog(entry(recent + 1_000));

  t.deepEqual(await applyHistoryRetention(control, now, 365), { history: 5, log: 1 }, "web-1's firing, web-2's and web-4's firing and resolved; one log entry");
  t.deepEqual(control.alerts.queryHistory({ limit: 10, offset: 0 }).events.map((e) => e.agent_id), ["web-3"]);
  t.deepEqual(control.notify.queryLog({ limit: 10, offset: 0 }).entries.map((e) => e.ts), [recent + 1_000]);
  t.true(control.notify.firingWasSent(stillFiring!.episode_id, "hook"), "its resolution will still be sent");
  t.false(control.notify.firingWasSent(over!.episode_id, "hook"));
  t.true(control.notify.firingWasSent(waitingFiring!.episode_id, "hook"), "a resolution still to deliver keeps it too");
  t.deepEqual(control.alerts.active().map((s) => s.agent_id).sort(), ["web-1", "web-3"], "alert state is not history");
  t.deepEqual(await applyHistoryRetention(control, now, 365), { history: 0, log: 0 });
});

test("history retention removes more entries than one transaction takes", async (t) => {
  const { control } = tempControlStore(t);
  await control.alerts.history.transaction(() => {
    for (let i = 0; i < 12_001; i++) control.alerts.history.put([1_000 + i, `e${i}`], event({ id: `e${i}` }));
  });
  t.is(await control.alerts.pruneHistory(1_000 + 12_000), 12_000);
  t.deepEqual(control.alerts.queryHistory({ limit: 10, offset: 0 }).events.map((e) => e.id), ["e12000"]);
});
