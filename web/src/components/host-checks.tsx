import { useEffect } from "preact/hooks";
import { api } from "../lib/api.ts";
import { num } from "../lib/format.ts";
import { useLoad } from "./ui.tsx";

interface Latest { metric_name: string; labels: Record<string, string>; value: number; timestamp_ms: number }
interface CheckRow { check: string; type: string; target: string; up?: number; rtt?: number; loss?: number; atMs: number }

const REFRESH_MS = 30_000;

/** The checks this host runs, from its latest `check.*` values: up or down, latency, loss. */
export function HostChecks({ agentId }: { agentId: string }) {
  const rows = useLoad(async () => {
    const values = await api<Latest[]>(`/v1/agents/${encodeURIComponent(agentId)}/latest`);
    const byCheck = new Map<string, CheckRow>();
    for (const v of values) {
      if (!v.metric_name.startsWith("check.") || v.labels.check === undefined) continue;
      const row = byCheck.get(v.labels.check) ?? { check: v.labels.check, type: v.labels.type ?? "", target: v.labels.target ?? "", atMs: v.timestamp_ms };
      if (v.metric_name === "check.up") row.up = v.value;
      else if (v.metric_name === "check.rtt_ms") row.rtt = v.value;
      else if (v.metric_name === "check.loss_percent") row.loss = v.value;
      row.atMs = Math.max(row.atMs, v.timestamp_ms);
      byCheck.set(row.check, row);
    }
    return [...byCheck.values()].sort((a, b) => (a.up ?? 1) - (b.up ?? 1) || a.check.localeCompare(b.check));
  }, [agentId]);
  useEffect(() => {
    const timer = setInterval(rows.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [rows.reload]);
  return (
    <section aria-labelledby="checks-title" class="panel">
      <h2 id="checks-title">Checks</h2>
      {rows.error && <p class="error" role="alert">{rows.error}</p>}
      {rows.data?.length === 0 && <p class="muted">This host runs no checks (<code>[[checks]]</code> in its config, or server-managed ones).</p>}
      {rows.data && rows.data.length > 0 && (
        <div class="table-wrap">
          <table class="host-checks stack">
            <thead><tr><th scope="col">Check</th><th scope="col">Target</th><th scope="col">State</th><th scope="col">Latency</th><th scope="col">Loss</th></tr></thead>
            <tbody>
              {rows.data.map((r) => (
                <tr data-check={r.check}>
                  <th scope="row"><a href="/network">{r.check}</a> <span class="muted">{r.type}</span></th>
                  <td data-label="Target" class="span"><code>{r.target}</code></td>
                  <td data-label="State"><span class={`badge ${r.up === 0 ? "alerting" : "online"}`}>{r.up === 0 ? "down" : "up"}</span></td>
                  <td data-label="Latency">{r.rtt === undefined ? "–" : `${num(r.rtt, 1)} ms`}</td>
                  <td data-label="Loss">{r.loss === undefined ? "–" : `${num(r.loss, 0)}%`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
