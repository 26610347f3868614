import { useEffect, useState } from "preact/hooks";
import { api, ApiError, qs } from "../lib/api.ts";
import { alignColumns, type Aligned, type BucketColumns } from "../lib/columns.ts";
import { bytes, duration, labelText, num, pct, when } from "../lib/format.ts";
import { openLiveFeed } from "../lib/live.ts";
import type { ActiveAlert, AgentInfo } from "../lib/fleet-model.ts";
import { Gauge } from "../components/gauge.tsx";
import { TimeChart } from "../components/time-chart.tsx";
import { AlertList } from "../components/alert-list.tsx";
import { HostChecks } from "../components/host-checks.tsx";

/** Ranges offered, with the bucket each asks for (about 360–700 buckets a chart). */
const RANGES = [
  { key: "1h", ms: 3_600_000, step: 10 },
  { key: "12h", ms: 12 * 3_600_000, step: 60 },
  { key: "24h", ms: 24 * 3_600_000, step: 120 },
  { key: "7d", ms: 7 * 86_400_000, step: 900 },
] as const;
type RangeKey = (typeof RANGES)[number]["key"];

const rate = (v: number) => bytes(v, "/s");
/** Charts of the host page: each one or two metrics, one line per series (core, mount, interface …). */
const CHARTS: { id: string; title: string; metrics: { metric: string; prefix?: string }[]; format: (v: number) => string; max?: number }[] = [
  { id: "cpu", title: "CPU (total)", metrics: [{ metric: "cpu.usage" }], format: pct, max: 100 },
  { id: "cpu-cores", title: "CPU per core", metrics: [{ metric: "cpu.core_usage" }], format: pct, max: 100 },
  { id: "memory", title: "Memory used", metrics: [{ metric: "memory.used_percent" }], format: pct, max: 100 },
  { id: "disk", title: "Disk used per mount", metrics: [{ metric: "disk.used_percent" }], format: pct, max: 100 },
  { id: "disk-io", title: "Disk I/O", metrics: [{ metric: "disk.io_read_bytes", prefix: "read" }, { metric: "disk.io_write_bytes", prefix: "write" }], format: rate },
  { id: "network", title: "Network per interface", metrics: [{ metric: "network.bytes_recv", prefix: "in" }, { metric: "network.bytes_sent", prefix: "out" }], format: rate },
  { id: "load", title: "Load", metrics: [{ metric: "load.load_1", prefix: "1 min" }, { metric: "load.load_5", prefix: "5 min" }, { metric: "load.load_15", prefix: "15 min" }], format: (v) => num(v, 2) },
];
/** Metrics of the stats table. */
const STATS = ["cpu.usage", "memory.used_percent", "disk.used_percent", "load.load_1"];
const GAUGE_METRICS = ["cpu.usage", "memory.used_percent", "disk.used_percent", "load.load_1", "load.uptime"];

interface Latest { metric_name: string; labels: Record<string, string>; value: number }
interface StatsRow { labels: Record<string, string>; count: number; min: number; max: number; avg: number; p95: number; p99: number }
interface ChartData { id: string; names: string[]; data: Aligned }

function seriesName(title: string, prefix: string | undefined, labels: Record<string, string>): string {
  const l = labels.core !== undefined ? `core ${labels.core}` : labels.mount ?? labels.interface ?? labels.device ?? labelText(labels);
  return [prefix, l].filter(Boolean).join(" ") || title;
}

export function HostPage({ agentId }: { agentId: string }) {
  const [range, setRange] = useState<RangeKey>("1h");
  const [charts, setCharts] = useState<ChartData[] | null>(null);
  const [stats, setStats] = useState<{ from: number; to: number; rows: { metric: string; row: StatsRow }[] } | null>(null);
  const [latest, setLatest] = useState<Map<string, number>>(new Map());
  const [info, setInfo] = useState<AgentInfo & { system_info: Record<string, string | number> | null } | null>(null);
  const [alerts, setAlerts] = useState<ActiveAlert[]>([]);
  const [error, setError] = useState<string | null>(null);

  // Gauges: the latest values, then every report of this agent over the live feed.
  useEffect(() => {
    const key = (m: string, labels: Record<string, string>) => (m === "disk.used_percent" ? `${m}|${labels.mount ?? ""}` : m);
    api<Latest[]>(`/v1/agents/${encodeURIComponent(agentId)}/latest`).then(
      (values) => setLatest(new Map(values.map((v) => [key(v.metric_name, v.labels), v.value]))),
      (err) => setError((err as Error).message),
    );
    api<(AgentInfo & { system_info: Record<string, string | number> | null })[]>("/v1/agents").then((all) => setInfo(all.find((a) => a.agent_id === agentId) ?? null), () => {});
    const loadAlerts = () => api<ActiveAlert[]>("/v1/alerts/active").then((all) => setAlerts(all.filter((a) => a.agent_id === agentId)), () => {});
    void loadAlerts();
    const feed = openLiveFeed({
      agents: [agentId], metrics: GAUGE_METRICS,
      onBatch: (batch) => {
        if (batch.some((m) => m.type === "alert")) void loadAlerts();
        setLatest((before) => {
          const next = new Map(before);
          for (const m of batch) if (m.type === "report") for (const v of m.values) next.set(key(v.metric, v.labels), v.value);
          return next;
        });
      },
    });
    return () => feed.close();
  }, [agentId]);

  // History and stats for the chosen range.
  useEffect(() => {
    const r = RANGES.find((x) => x.key === range)!;
    const to = Date.now(), from = to - r.ms;
    const abort = new AbortController();
    setCharts(null);
    setStats(null);
    const columns = (metric: string) =>
      api<{ series: BucketColumns[] }>(`/v1/metrics?${qs({ agent: agentId, metric, from, to, step: r.step, format: "columns" })}`, { signal: abort.signal })
        .then((res) => res.series, (err) => (err instanceof ApiError && err.status === 404 ? [] : Promise.reject(err)));
    Promise.all(CHARTS.map(async (c) => {
      const parts = await Promise.all(c.metrics.map(async (m) => (await columns(m.metric)).map((s) => ({ name: seriesName(c.title, m.prefix, s.labels), columns: s }))));
      const named = parts.flat();
      return { id: c.id, names: named.map((n) => n.name), data: alignColumns(named) };
    })).then(setCharts, (err) => abort.signal.aborted || setError((err as Error).message));
    Promise.all(STATS.map(async (metric) => {
      const res = await api<{ series: StatsRow[] }>(`/v1/metrics/stats?${qs({ agent: agentId, metric, from, to })}`, { signal: abort.signal });
      return res.series.map((row) => ({ metric, row }));
    })).then((rows) => setStats({ from, to, rows: rows.flat() }), (err) => abort.signal.aborted || setError((err as Error).message));
    return () => abort.abort();
  }, [agentId, range]);

  let disk: number | undefined;
  for (const [k, v] of latest) if (k.startsWith("disk.used_percent|")) disk = Math.max(disk ?? 0, v);
  const sys = info?.system_info;
  return (
    <section>
      <div class="page-head">
        <h1><a href="/" class="crumb">Fleet</a> / {agentId}</h1>
        {info && <span class={`badge ${alerts.length ? "alerting" : info.active ? "online" : "offline"}`}>{alerts.length ? "alerting" : info.active ? "online" : "offline"}</span>}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="gauges">
        <Gauge label="CPU" value={latest.get("cpu.usage")} text={pct(latest.get("cpu.usage"))} />
        <Gauge label="Memory" value={latest.get("memory.used_percent")} text={pct(latest.get("memory.used_percent"))} />
        <Gauge label="Disk (fullest)" value={disk} text={pct(disk)} />
        <Gauge label="Load (1 min)" value={latest.get("load.load_1")} max={Math.max(1, Number(sys?.cpuCores ?? 1))} text={num(latest.get("load.load_1"), 2)} />
      </div>
      <div class="host-grid">
        <section aria-labelledby="sys-title" class="panel">
          <h2 id="sys-title">System</h2>
          <dl class="facts">
            <dt>Hostname</dt><dd>{sys?.hostname ?? "–"}</dd>
            <dt>OS</dt><dd>{sys?.os ?? "–"}</dd>
            <dt>Kernel</dt><dd>{sys?.kernel ?? "–"}</dd>
            <dt>Architecture</dt><dd>{sys?.arch ?? "–"}</dd>
            <dt>CPU cores</dt><dd>{sys?.cpuCores ?? "–"}</dd>
            <dt>Memory</dt><dd>{sys ? bytes(Number(sys.memoryTotal)) : "–"}</dd>
            <dt>Agent version</dt><dd>{sys?.agentVersion ?? "–"}</dd>
            <dt>Uptime</dt><dd>{duration(latest.get("load.uptime"))}</dd>
            <dt>Last seen</dt><dd>{when(info?.last_seen)}</dd>
          </dl>
        </section>
        <section aria-labelledby="alerts-title" class="panel">
          <h2 id="alerts-title">Active alerts</h2>
          <AlertList alerts={alerts} showAgent={false} />
        </section>
        <HostChecks agentId={agentId} />
      </div>
      <div class="toolbar" role="group" aria-label="Range">
        {RANGES.map((r) => <button type="button" class={r.key === range ? "seg on" : "seg"} aria-pressed={r.key === range} onClick={() => setRange(r.key)}>{r.key}</button>)}
        <span class="muted hint">Drag across a chart to zoom; double-click to zoom out.</span>
      </div>
      <div class="charts" aria-busy={charts === null} data-range={range}>
        {charts === null ? <p class="muted">Loading {range} of history…</p> : CHARTS.map((c) => {
          const d = charts.find((x) => x.id === c.id)!;
          return <TimeChart key={`${c.id}-${range}`} id={c.id} title={c.title} names={d.names} data={d.data} format={c.format} max={c.max} />;
        })}
      </div>
      <section class="panel" aria-labelledby="stats-title">
        <h2 id="stats-title">Statistics, last {range}</h2>
        {stats === null ? <p class="muted">Loading…</p> : (
          <div class="table-wrap">
            <table class="stats stack" data-from={stats.from} data-to={stats.to}>
              <thead><tr><th scope="col">Metric</th><th scope="col">min</th><th scope="col">max</th><th scope="col">avg</th><th scope="col">p95</th><th scope="col">p99</th></tr></thead>
              <tbody>
                {stats.rows.length === 0 && <tr><td colSpan={6} class="muted">No data in this range.</td></tr>}
                {stats.rows.map(({ metric, row }) => (
                  <tr data-metric={metric} data-labels={JSON.stringify(row.labels)}>
                    <th scope="row">{metric}{labelText(row.labels) && <span class="muted"> {labelText(row.labels)}</span>}</th>
                    <td data-label="min">{num(row.min)}</td><td data-label="max">{num(row.max)}</td><td data-label="avg">{num(row.avg)}</td><td data-label="p95">{num(row.p95)}</td><td data-label="p99">{num(row.p99)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </section>
  );
}
