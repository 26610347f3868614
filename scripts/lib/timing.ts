/** Calls `once` for `warmupSecs`, then `runs` times more, and returns those runs' durations in ms, sorted. */
export async function timeRuns(once: () => Promise<unknown>, warmupSecs: number, runs: number): Promise<number[]> {
  for (const until = performance.now() + warmupSecs * 1000; performance.now() < until;) await once();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await once();
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b);
}
