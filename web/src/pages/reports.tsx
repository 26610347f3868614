import { useState } from "preact/hooks";
import { api, ApiError, qs, session } from "../lib/api.ts";
import { duration, pct, when } from "../lib/format.ts";
import { availability, fleetAvailability, lastPeriod, type Peak, type Report } from "../lib/report.ts";
import { Panel } from "../components/ui.tsx";

const PRESETS = [["Last 24 hours", 24], ["Last 7 days", 168], ["Last 30 days", 720]] as const;

/**
 * Availability, alerts and peaks of a set of hosts over a period (GET /v1/reports). The page
 * prints cleanly (the browser's "Save as PDF"); the same data downloads as CSV.
 */
export function ReportsPage() {
  const [period, setPeriod] = useState(() => lastPeriod(168));
  const [agents, setAgents] = useState("*");
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const params = (format?: string) => qs({ from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString(), agents: agents.trim() || "*", format });

  const build = async (e?: Event) => {
    e?.preventDefault();
    if (Number.isNaN(Date.parse(period.from)) || Number.isNaN(Date.parse(period.to))) return setError("Choose both ends of the period.");
    setBusy(true);
    try {
      setReport(await api<Report>(`/v1/reports?${params()}`));
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const downloadCsv = async () => {
    // A plain link would not carry the session token: fetch, then hand the browser a blob.
    const res = await fetch(`/v1/reports?${params("csv")}`, { headers: { authorization: `Bearer ${session()?.token ?? ""}` } });
    if (!res.ok) return setError(new ApiError(res.status, ((await res.json().catch(() => ({}))) as { error?: string }).error ?? res.statusText).message);
    const url = URL.createObjectURL(await res.blob());
    const a = Object.assign(document.createElement("a"), { href: url, download: `tsmon-report-${period.from.slice(0, 10)}-${period.to.slice(0, 10)}.csv` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <section class="report">
      <div class="page-head"><h1>Reports</h1></div>
      <form class="toolbar no-print" onSubmit={build}>
        <label>From<input type="datetime-local" value={period.from} onInput={(e) => setPeriod({ ...period, from: e.currentTarget.value })} required /></label>
        <label>To<input type="datetime-local" value={period.to} onInput={(e) => setPeriod({ ...period, to: e.currentTarget.value })} required /></label>
        <label>Hosts<input value={agents} onInput={(e) => setAgents(e.currentTarget.value)} placeholder="web-*,db-1" size={16} /></label>
        <button type="submit" disabled={busy}>{busy ? "Building…" : "Build report"}</button>
        <span class="presets">
          {PRESETS.map(([label, hours]) => <button type="button" class="secondary" onClick={() => setPeriod(lastPeriod(hours))}>{label}</button>)}
        </span>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {report && <ReportView report={report} onCsv={() => void downloadCsv()} />}
      {!report && !error && <p class="muted">Choose a period and the hosts (agent id globs, comma-separated), then build the report. At most 31 days.</p>}
    </section>
  );
}

function ReportView({ report, onCsv }: { report: Report; onCsv: () => void }) {
  const checks = report.hosts.flatMap((h) => h.checks.map((c) => ({ ...c, agent_id: h.agent_id })));
  const alerts = report.hosts.reduce((n, h) => n + h.alerts, 0);
  const peak = (p: Peak | null) => (p ? <>{pct(p.p95)} <span class="muted">/ {pct(p.max)}</span></> : "–");
  return (
    <>
      <div class="page-head">
        <p class="report-summary">
          {when(report.from)} – {when(report.to)}: <strong>{report.hosts.length}</strong> {report.hosts.length === 1 ? "host" : "hosts"} matching <code>{report.agents_pattern}</code>,
          availability <strong>{availability(fleetAvailability(report.hosts))}</strong>, <strong>{alerts}</strong> {alerts === 1 ? "alert" : "alerts"}
        </p>
        <span class="no-print">
          <button type="button" class="secondary" onClick={onCsv}>Download CSV</button>{" "}
          <button type="button" class="secondary" onClick={() => window.print()}>Print</button>
        </span>
      </div>
      <Panel title="Hosts" id="report-hosts">
        <div class="table-wrap">
          <table class="report-hosts stack">
            <thead><tr>
              <th scope="col">Host</th><th scope="col">Availability</th><th scope="col">Alerts</th><th scope="col">Time firing</th>
              <th scope="col">CPU p95 / max</th><th scope="col">Memory p95 / max</th><th scope="col">Disk p95 / max</th>
            </tr></thead>
            <tbody>
              {report.hosts.length === 0 && <tr><td colSpan={7} class="muted">No host matches these globs.</td></tr>}
              {report.hosts.map((h) => (
                <tr data-agent={h.agent_id}>
                  <th scope="row"><a href={`/agents/${encodeURIComponent(h.agent_id)}`}>{h.agent_id}</a></th>
                  <td data-label="Availability" class={h.availability_percent !== null && h.availability_percent < 99 ? "bad-text" : undefined} title={`${h.covered_minutes} of ${h.period_minutes} minutes covered; reports every ${h.report_interval_secs} s`}>{availability(h.availability_percent)}</td>
                  <td data-label="Alerts">{h.alerts}</td>
                  <td data-label="Time firing">{h.firing_seconds === 0 ? "–" : h.firing_seconds < 60 ? `${h.firing_seconds} s` : duration(h.firing_seconds)}</td>
                  <td data-label="CPU p95 / max">{peak(h.cpu)}</td>
                  <td data-label="Memory p95 / max">{peak(h.memory)}</td>
                  <td data-label="Disk p95 / max">{peak(h.disk)}{h.disk?.mount && <span class="muted"> {h.disk.mount}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p class="muted hint">Availability: the share of the period, from the host's first report on, covered by its reports (each covers the host's usual interval). p95 is over one-minute means; max is the highest point.</p>
      </Panel>
      {checks.length > 0 && (
        <Panel title="Checks" id="report-checks">
          <div class="table-wrap">
            <table class="report-checks stack">
              <thead><tr><th scope="col">Host</th><th scope="col">Check</th><th scope="col">Target</th><th scope="col">Up</th><th scope="col">Probes</th></tr></thead>
              <tbody>
                {checks.map((c) => (
                  <tr>
                    <th scope="row">{c.agent_id}</th><td data-label="Check">{c.check} <span class="muted">{c.type}</span></td><td data-label="Target" class="span"><code>{c.target}</code></td>
                    <td data-label="Up" class={c.availability_percent < 99 ? "bad-text" : undefined}>{availability(c.availability_percent)}</td><td data-label="Probes">{c.probes}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Panel>
      )}
      <p class="muted hint">Generated {when(report.generated_at)}.</p>
    </>
  );
}
