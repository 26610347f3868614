/*
 * Sparklines as two SVG paths each (line and the area under it), built as strings from the
 * column arrays. Not canvases: a screenful of cards is ~150 sparklines, and in Chromium
 * each canvas is its own 2D context and composited layer — creating, drawing and committing
 * them cost ~300 ms a screenful on a loaded machine, the paths ~40 ms.
 */
export interface SparkData { t: number[]; v: number[] }

/** The viewBox every sparkline is drawn in (CSS stretches it to the card's column). */
export const SPARK_WIDTH = 200, SPARK_HEIGHT = 26;

export interface SparkPaths { line: string; area: string }

/** Path data for `data` between `fromMs` and `toMs`, scaled to `fixedMax` (else to its own maximum). */
export function sparklinePaths(data: SparkData, fromMs: number, toMs: number, fixedMax?: number): SparkPaths {
  const n = data.t.length;
  if (n === 0) return { line: "", area: "" };
  const w = SPARK_WIDTH, h = SPARK_HEIGHT;
  let max = fixedMax ?? 0;
  if (fixedMax === undefined) for (const v of data.v) if (v > max) max = v;
  if (max <= 0) max = 1;
  const span = Math.max(1, toMs - fromMs);
  const x = (t: number) => (((t - fromMs) / span) * (w - 2) + 1).toFixed(1);
  const y = (v: number) => (h - 2 - (Math.min(Math.max(v, 0), max) / max) * (h - 4)).toFixed(1);
  let line = `M${x(data.t[0]!)} ${y(data.v[0]!)}`;
  for (let i = 1; i < n; i++) line += `L${x(data.t[i]!)} ${y(data.v[i]!)}`;
  return { line, area: `${line}L${x(data.t[n - 1]!)} ${h}L${x(data.t[0]!)} ${h}Z` };
}

/**
 * Appends a point and drops those older than `fromMs` (the window slides). A live point
 * replaces the bucket averages it overlaps (the last bucket's centre may lie ahead of it).
 */
export function pushPoint(data: SparkData, t: number, v: number, fromMs: number): void {
  while (data.t.length && data.t[data.t.length - 1]! >= t) {
    data.t.pop();
    data.v.pop();
  }
  data.t.push(t);
  data.v.push(v);
  let drop = 0;
  while (drop < data.t.length - 1 && data.t[drop]! < fromMs) drop++;
  if (drop) {
    data.t.splice(0, drop);
    data.v.splice(0, drop);
  }
}
