/**
 * Per-second rates of cumulative counters between two readings, per key (interface,
 * device). A key seen for the first time has no baseline and no rate yet. A key whose
 * counters went backwards (a driver reload, a re-created interface, a 32-bit wrap) gets
 * no rate for this interval: the true delta is unknowable, and a negative or huge rate
 * would be worse than a gap. The next reading has a fresh baseline.
 */
export function counterRates<T extends Record<keyof T, number>>(
  prev: ReadonlyMap<string, T>,
  cur: ReadonlyMap<string, T>,
  elapsedSecs: number,
): Map<string, T> {
  const rates = new Map<string, T>();
  if (!(elapsedSecs > 0)) return rates;
  for (const [key, now] of cur) {
    const before = prev.get(key);
    if (!before) continue;
    const rate = {} as Record<keyof T, number>;
    let valid = true;
    for (const field of Object.keys(now) as (keyof T)[]) {
      const delta = now[field] - before[field];
      if (!(delta >= 0)) {
        valid = false;
        break;
      }
      rate[field] = delta / elapsedSecs;
    }
    if (valid) rates.set(key, rate as T);
  }
  return rates;
}

/**
 * Remembers the previous reading of `read()` and returns rates since then. The baseline
 * is taken when the tracker is created, so the first call already yields rates.
 */
export function createRateTracker<T extends Record<keyof T, number>>(
  read: () => ReadonlyMap<string, T>,
  monotonicMs: () => number,
): () => Map<string, T> {
  let prev = read();
  let prevAt = monotonicMs();
  return () => {
    const cur = read();
    const at = monotonicMs();
    if (!(at > prevAt)) return new Map();
    const rates = counterRates(prev, cur, (at - prevAt) / 1000);
    prev = cur;
    prevAt = at;
    return rates;
  };
}
