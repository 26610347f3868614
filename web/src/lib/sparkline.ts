/*
 * Sparklines drawn straight onto one small canvas each: no chart object per card, so a
 * fleet of 1,000 agents costs 4,000 short path draws per refresh and nothing in between.
 */
export interface SparkData { t: number[]; v: number[] }

/**
 * Every sparkline canvas has this fixed backing size (CSS stretches it to the card's
 * column): reading each canvas's layout size would force a layout per canvas, which at
 * 4,000 canvases costs seconds.
 */
export const SPARK_WIDTH = 200, SPARK_HEIGHT = 26;

export function drawSparkline(canvas: HTMLCanvasElement, data: SparkData, fromMs: number, toMs: number, color: string, fixedMax?: number): void {
  const dpr = Math.min(2, devicePixelRatio || 1);
  const w = SPARK_WIDTH, h = SPARK_HEIGHT;
  if (canvas.width !== w * dpr) {
    canvas.width = w * dpr;
    canvas.height = h * dpr;
  }
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const n = data.t.length;
  if (n === 0) return;
  let max = fixedMax ?? 0;
  if (fixedMax === undefined) for (const v of data.v) if (v > max) max = v;
  if (max <= 0) max = 1;
  const span = Math.max(1, toMs - fromMs);
  const x = (t: number) => ((t - fromMs) / span) * (w - 2) + 1;
  const y = (v: number) => h - 2 - (Math.min(v, max) / max) * (h - 4);
  ctx.beginPath();
  ctx.moveTo(x(data.t[0]!), y(data.v[0]!));
  for (let i = 1; i < n; i++) ctx.lineTo(x(data.t[i]!), y(data.v[i]!));
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.stroke();
  ctx.lineTo(x(data.t[n - 1]!), h);
  ctx.lineTo(x(data.t[0]!), h);
  ctx.closePath();
  ctx.globalAlpha = 0.15;
  ctx.fillStyle = color;
  ctx.fill();
  ctx.globalAlpha = 1;
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
