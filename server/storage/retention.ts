import type { ControlStore } from "./control-store.ts";
import { DAY_MS, expiredDays } from "./days.ts";
import type { PartitionSet } from "./partitions.ts";

/**
 * Deletes every whole day of data older than `retentionDays`, and every day of rollups
 * older than `rollupRetentionDays` (default: the same); returns the days whose data went.
 */
export async function applyRetention(partitions: PartitionSet, nowMs: number, retentionDays: number, rollupRetentionDays = retentionDays): Promise<string[]> {
  const expired = expiredDays(partitions.files.days(), nowMs, retentionDays);
  for (const day of expired) await partitions.drop(day);
  for (const day of expiredDays(partitions.files.rollupDays(), nowMs, rollupRetentionDays)) await partitions.dropRollups(day);
  return expired;
}

/**
 * Deletes alert history and notification-log entries older than `historyRetentionDays`
 * (whole events, oldest first); alerts still firing keep what their resolution needs.
 */
export async function applyHistoryRetention(control: ControlStore, nowMs: number, historyRetentionDays: number): Promise<{ history: number; log: number }> {
  const before = nowMs - historyRetentionDays * DAY_MS;
  const history = await control.alerts.pruneHistory(before);
  const { log } = await control.notify.prune(before, control.alerts.firingEpisodes());
  return { history, log };
}
