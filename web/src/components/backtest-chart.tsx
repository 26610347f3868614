import { useState } from "preact/hooks";
import { api, qs } from "../lib/api.ts";
import { alignColumns, type BucketColumns } from "../lib/columns.ts";
import { labelText, num } from "../lib/format.ts";
import { TimeChart, type Spans } from "./time-chart.tsx";
import { useLoad } from "./ui.tsx";

export interface BacktestEpisode { agent_id: string; fired_at: string; resolved_at: string | null; value: number; message: string }

const STEP_SECS = 900;

/**
 * The rule's metric on one agent over the backtest's range, its episodes shaded and the
 * threshold drawn, so a threshold can be tuned by eye. The agent: one with episodes (a
 * choice when several have them), else `fallbackAgent`.
 */
export function BacktestChart({ metric, threshold, episodes, fallbackAgent, fromMs, toMs }: {
  metric: string; threshold: number | undefined; episodes: BacktestEpisode[]; fallbackAgent: string | undefined; fromMs: number; toMs: number;
}) {
  const agents = [...new Set(episodes.map((e) => e.agent_id))];
  const [agent, setAgent] = useState(agents[0] ?? fallbackAgent);
  const series = useLoad(async () => {
    if (!agent || !metric) return [];
    const res = await api<{ series: BucketColumns[] }>(`/v1/metrics?${qs({ agent, metric, from: fromMs, to: toMs, step: STEP_SECS, format: "columns" })}`);
    return res.series.slice(0, 8);
  }, [agent, metric, fromMs, toMs]);
  if (!agent) return null;
  const named = (series.data ?? []).map((columns) => ({ name: labelText(columns.labels) || metric, columns }));
  const data = alignColumns(named);
  if (threshold !== undefined && data.x.length) data.avg.push(data.x.map(() => threshold));
  const spans: Spans = episodes.filter((e) => e.agent_id === agent).map((e) => [Date.parse(e.fired_at), e.resolved_at ? Date.parse(e.resolved_at) : null]);
  return (
    <div class="backtest-chart">
      {agents.length > 1 && (
        <label>Agent<select value={agent} onChange={(e) => setAgent((e.target as HTMLSelectElement).value)}>{agents.map((a) => <option>{a}</option>)}</select></label>
      )}
      {series.error && <p class="error" role="alert">{series.error}</p>}
      {series.data && (
        <TimeChart id="backtest" title={`${metric} on ${agent}, last 7 days (shaded: would have fired)`} spans={spans}
          names={[...named.map((n) => n.name), ...(threshold !== undefined ? ["threshold"] : [])]} data={data} format={(v) => num(v, 1)} />
      )}
    </div>
  );
}
