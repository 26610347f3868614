/** How many of the sorted `ts` come before `t` (with `orAt`, also those equal to it). */
export function countBefore(ts: ArrayLike<number>, t: number, orAt: boolean): number {
  let lo = 0, hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t || (orAt && ts[mid] === t)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
