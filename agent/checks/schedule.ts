/*
 * The pure part of the check scheduler: which checks are due, when each runs next, when
 * to wake. No timers and no clock here; scheduler.ts feeds in the time.
 */

export interface Slot {
  /** The check's place in the scheduler's list: equal due times start in list order. */
  readonly index: number;
  readonly intervalMs: number;
  /** When it should next start (ms on the scheduler's clock). */
  dueAt: number;
}

/**
 * The checks waiting for their next start, earliest first (a binary min-heap on dueAt,
 * then list order). A running check is out of the queue until it is put back. With a
 * thousand checks and one probe finishing at a time, scanning every check at each finish
 * was the scheduler's main cost; taking one due check costs log n here.
 */
export class DueQueue {
  private readonly heap: Slot[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(slot: Slot): void {
    const heap = this.heap;
    let at = heap.length;
    heap.push(slot);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!before(slot, heap[parent]!)) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = slot;
  }

  /** The earliest check due at `nowMs` or before, taken out of the queue; undefined when none is due. */
  takeDue(nowMs: number): Slot | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined || top.dueAt > nowMs) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) this.sinkFromTop(last);
    return top;
  }

  /** When the scheduler must look again: the earliest due time of a check not running. */
  nextWake(): number | undefined {
    return this.heap[0]?.dueAt;
  }

  private sinkFromTop(slot: Slot): void {
    const heap = this.heap;
    const n = heap.length;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap[child + 1]!, heap[child]!)) child++;
      if (!before(heap[child]!, slot)) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = slot;
  }
}

function before(a: Slot, b: Slot): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.index < b.index);
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

/**
 * First start of each check: spread over the first second (or interval, if shorter) so a
 * long list does not probe all at once at start-up.
 */
export function firstDueAt(index: number, count: number, intervalMs: number, startMs: number): number {
  const spread = Math.min(1000, intervalMs);
  return startMs + Math.floor((index * spread) / Math.max(1, count));
}
