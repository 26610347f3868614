/*
 * "Did you mean": the names nearest a misspelt one, by edit distance. Pure, small inputs
 * (an agent has tens of metric names), so the plain dynamic programme is enough.
 */

/** Levenshtein distance: insertions, deletions and substitutions, each costing 1. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Up to `limit` of `names` nearest `wanted`, nearest first (ties by name). */
export function closestNames(wanted: string, names: Iterable<string>, limit = 3): string[] {
  return [...new Set(names)]
    .map((name) => ({ name, distance: editDistance(wanted, name) }))
    .sort((x, y) => x.distance - y.distance || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
    .slice(0, limit)
    .map((x) => x.name);
}
