/**
 * Milliseconds (with fractions) on a clock that every thread of the process reads alike:
 * a worker's performance.now() counts from its own start, so a time taken in one thread
 * and compared in another must add the thread's time origin.
 */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
