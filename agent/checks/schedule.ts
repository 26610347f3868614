/*
 * The pure part of the check scheduler: which checks are due, when each runs next, when
 * to wake. No timers and no clock here; scheduler.ts feeds in the time.
 */

export interface Slot {
  readonly name: string;
  readonly intervalMs: number;
  /** When it should next start (ms on the scheduler's clock). */
  dueAt: number;
  running: boolean;
}

/**
 * The checks to start now: due, not running, earliest first, at most `free` of them. One
 * pass keeping the `free` earliest: with hundreds of checks due and one slot free (a busy
 * round), sorting them all at every finished probe was the scheduler's main cost.
 */
export function pickDue(slots: readonly Slot[], nowMs: number, free: number): Slot[] {
  const picked: Slot[] = [];
  if (free <= 0) return picked;
  for (const slot of slots) {
    if (slot.running || slot.dueAt > nowMs) continue;
    if (picked.length === free && slot.dueAt >= picked[free - 1]!.dueAt) continue;
    let at = picked.length === free ? free - 1 : picked.length;
    while (at > 0 && picked[at - 1]!.dueAt > slot.dueAt) {
      picked[at] = picked[at - 1]!;
      at--;
    }
    picked[at] = slot;
  }
  return picked;
}

/**
 * The next start after one that was due at `dueAt` and starts at `nowMs`: a fixed
 * schedule that does not drift; starts missed while waiting for a free slot (or a stalled
 * process) are skipped, not run back to back.
 */
export function nextDueAt(dueAt: number, intervalMs: number, nowMs: number): number {
  let next = dueAt + intervalMs;
  if (next <= nowMs) next += Math.ceil((nowMs - next + 1) / intervalMs) * intervalMs;
  return next;
}

/** When the scheduler must look again: the earliest due time of a check not running. */
export function nextWake(slots: readonly Slot[]): number | undefined {
  let wake: number | undefined;
  for (const s of slots) if (!s.running && (wake === undefined || s.dueAt < wake)) wake = s.dueAt;
  return wake;
}

/**
 * First start of each check: spread over the first second (or interval, if shorter) so a
 * long list does not probe all at once at start-up.
 */
export function firstDueAt(index: number, count: number, intervalMs: number, startMs: number): number {
  const spread = Math.min(1000, intervalMs);
  return startMs + Math.floor((index * spread) / Math.max(1, count));
}
