import { expiredDays } from "./days.ts";
import type { PartitionSet } from "./partitions.ts";

/**
 * Deletes every whole day of data older than `retentionDays`, and every day of rollups
 * older than `rollupRetentionDays` (default: the same); returns the days whose data went.
 */
export async function applyRetention(partitions: PartitionSet, nowMs: number, retentionDays: number, rollupRetentionDays = retentionDays): Promise<string[]> {
  const expired = expiredDays(partitions.days(), nowMs, retentionDays);
  for (const day of expired) await partitions.drop(day);
  for (const day of expiredDays(partitions.rollupDays(), nowMs, rollupRetentionDays)) await partitions.dropRollups(day);
  return expired;
}
