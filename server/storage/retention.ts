import { expiredDays } from "./days.ts";
import type { PartitionSet } from "./partitions.ts";

/** Deletes every whole partition older than the retention window; returns the days dropped. */
export async function applyRetention(partitions: PartitionSet, nowMs: number, retentionDays: number): Promise<string[]> {
  const expired = expiredDays(partitions.days(), nowMs, retentionDays);
  for (const day of expired) await partitions.drop(day);
  return expired;
}
