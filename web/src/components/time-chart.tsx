import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { Aligned } from "../lib/columns.ts";

export const PALETTE = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16", "#f97316", "#6366f1"];

/**
 * A min–max band under each line where buckets hold several points, so a spike that the
 * average hides stays visible. Drawn before the series, from the bucket columns.
 */
function bandPlugin(data: Aligned): uPlot.Plugin {
  return {
    hooks: {
      drawAxes: [(u: uPlot) => {
        if (!data.downsampled || data.avg.length > 4) return;
        const ctx = u.ctx;
        ctx.save();
        ctx.beginPath();
        ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
        ctx.clip();
        data.min.forEach((mins, s) => {
          const maxs = data.max[s]!;
          ctx.fillStyle = PALETTE[s % PALETTE.length]!;
          ctx.globalAlpha = 0.18;
          // One polygon per run of non-empty buckets: along the maxima, back along the minima.
          let i = 0;
          while (i < data.x.length) {
            while (i < data.x.length && mins[i] == null) i++;
            const start = i;
            while (i < data.x.length && mins[i] != null) i++;
            if (i - start < 2) continue;
            ctx.beginPath();
            for (let j = start; j < i; j++) ctx.lineTo(u.valToPos(data.x[j]!, "x", true), u.valToPos(maxs[j]!, "y", true));
            for (let j = i - 1; j >= start; j--) ctx.lineTo(u.valToPos(data.x[j]!, "x", true), u.valToPos(mins[j]!, "y", true));
            ctx.closePath();
            ctx.fill();
          }
        });
        ctx.restore();
      }],
    },
  };
}

/** Spans to shade behind the lines (ms; end null: still going), e.g. a backtest's alert episodes. */
export type Spans = readonly (readonly [startMs: number, endMs: number | null])[];

/** Shades each span across the plot's height, under the lines. */
function spansPlugin(spans: Spans): uPlot.Plugin {
  return {
    hooks: {
      drawAxes: [(u: uPlot) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = getComputedStyle(document.documentElement).getPropertyValue("--bad").trim() || "#b91c1c";
        ctx.globalAlpha = 0.16;
        const right = (u.scales.x?.max ?? 0) * 1000;
        for (const [start, end] of spans) {
          const x0 = Math.max(u.bbox.left, u.valToPos(start / 1000, "x", true));
          const x1 = Math.min(u.bbox.left + u.bbox.width, u.valToPos((end ?? right) / 1000, "x", true));
          if (x1 > x0) ctx.fillRect(x0, u.bbox.top, Math.max(2, x1 - x0), u.bbox.height);
        }
        ctx.restore();
      }],
    },
  };
}

export interface ChartProps { title: string; names: string[]; data: Aligned; format: (v: number) => string; max?: number; id: string; spans?: Spans }

/** One uPlot chart: drag across it to zoom, double-click to zoom out. */
export function TimeChart({ title, names, data, format, max, id, spans }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const css = getComputedStyle(document.documentElement);
    const ink = css.getPropertyValue("--muted").trim() || "#888", grid = css.getPropertyValue("--grid").trim() || "#8882";
    const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth), height: 200,
      cursor: { drag: { x: true, y: false }, sync: { key: "host" } },
      scales: { x: { time: true }, y: max === undefined ? { range: (_u, lo, hi) => [Math.min(0, lo), hi > 0 ? hi * 1.05 : 1] } : { range: [0, max] } },
      axes: [axis, { ...axis, size: 76, values: (_u, vals) => vals.map((v) => format(v)) }],
      series: [{}, ...names.map((name, i) => ({ label: name, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false, value: (_u: uPlot, v: number | null) => (v == null ? "–" : format(v)) }))],
      legend: { live: true },
      plugins: [bandPlugin(data), ...(spans?.length ? [spansPlugin(spans)] : [])],
    };
    const plot = new uPlot(opts, [data.x, ...data.avg] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => {
      const w = Math.max(280, el.clientWidth);
      if (Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height: 200 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data, names.join("\u0000"), spans]);
  return (
    <figure class="chart" data-chart={id}>
      <figcaption>{title}</figcaption>
      {data.x.length === 0 ? <p class="muted empty-chart">No data in this range.</p> : <div ref={box} class="chart-box" role="img" aria-label={`${title} chart; drag to zoom, double-click to reset`} />}
    </figure>
  );
}
