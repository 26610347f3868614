/** UTC-day arithmetic for time partitions; pure, so retention can be tested with any clock. */

export const DAY_MS = 86_400_000;

/** The last day named, remembered: every point of a report, nearly every report, is on the same day. */
let lastDay = NaN;
let lastName = "";

/** `2026-11-23` for any instant of that UTC day. */
export function dayOf(tsMs: number): string {
  const day = Math.floor(tsMs / DAY_MS);
  if (day !== lastDay) {
    lastName = new Date(day * DAY_MS).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastName;
}

export function dayStartMs(day: string): number {
  return Date.parse(day + "T00:00:00.000Z");
}

export function isDayName(name: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(name) && !Number.isNaN(dayStartMs(name));
}

/** The oldest instant still inside the retention window. */
export function retentionStartMs(nowMs: number, retentionDays: number): number {
  // UTC days have no leap seconds in epoch milliseconds: a day starts at a multiple of DAY_MS.
  return (Math.floor(nowMs / DAY_MS) - (retentionDays - 1)) * DAY_MS;
}

/**
 * Days to delete: a partition goes once its whole day is older than the window,
 * so `retention_days = 7` keeps today plus the six days before it.
 */
export function expiredDays(days: readonly string[], nowMs: number, retentionDays: number): string[] {
  const keepFrom = retentionStartMs(nowMs, retentionDays);
  return days.filter((day) => dayStartMs(day) < keepFrom);
}
