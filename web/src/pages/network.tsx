import { useState } from "preact/hooks";
import { api, qs } from "../lib/api.ts";
import { ago, num } from "../lib/format.ts";
import { buildMatrix, cellKey, cellState, downSpans, queryAsAligned, type MatrixResponse, type QueryColumns } from "../lib/reachability.ts";
import { TimeChart } from "../components/time-chart.tsx";
import { TraceroutePath, type Traceroute } from "../components/traceroute-path.tsx";
import { Panel, useLoad } from "../components/ui.tsx";

const METRICS = ["check.rtt_ms", "check.loss_percent", "check.up"] as const;
const RANGES = [["1 h", 3_600_000, 30], ["24 h", 86_400_000, 600]] as const;

/**
 * Reachability: a matrix of agents × targets coloured by the latest latency, loss and state;
 * a check's latency over time from every agent running it (min–max band, down periods
 * shaded), its loss, and the last traced path.
 */
export function NetworkPage() {
  const matrix = useLoad(async () => buildMatrix(await Promise.all(METRICS.map((m) => api<MatrixResponse>(`/v1/reachability/matrix?${qs({ metric: m })}`)))));
  const [check, setCheck] = useState<string | null>(null);
  const m = matrix.data;
  const chosen = check ?? m?.columns[0]?.check ?? null;
  return (
    <section>
      <div class="page-head"><h1>Network</h1><button type="button" class="secondary" onClick={matrix.reload}>Refresh</button></div>
      {matrix.error && <p class="error" role="alert">{matrix.error}</p>}
      {m && m.sources.length === 0 && <p class="muted">No check has reported yet. Add <code>[[checks]]</code> to an agent's config, or server-managed checks (<a href="/docs">/docs</a>: <code>POST /v1/checks</code>); see docs/checks.md.</p>}
      {m && m.sources.length > 0 && (
        <Panel title="Reachability matrix" id="matrix-title">
          <div class="table-wrap">
            <table class="matrix">
              <thead><tr><th scope="col">From \ to</th>{m.columns.map((c) => <th scope="col" title={c.title}><button type="button" class="link" aria-pressed={c.check === chosen} onClick={() => setCheck(c.check)}>{c.label}</button></th>)}</tr></thead>
              <tbody>
                {m.sources.map((source) => (
                  <tr data-source={source}>
                    <th scope="row"><a href={`/agents/${encodeURIComponent(source)}`}>{source}</a></th>
                    {m.columns.map((c) => {
                      const f = m.cells.get(cellKey(source, c.key));
                      const state = cellState(f);
                      return (
                        <td class={`cell ${state}`} data-state={state} data-column={c.key} title={f ? `${state}: rtt ${num(f.rtt, 1)} ms, loss ${num(f.loss, 0)} %, measured ${ago(new Date(f.atMs).toISOString())}` : "not run"}>
                          {f ? (state === "down" ? "down" : f.rtt !== undefined ? `${num(f.rtt, 1)} ms` : "up") : "–"}
                          {f?.loss ? <span class="loss"> {num(f.loss, 0)}%</span> : null}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p class="muted hint">Latest round of each check: green ok, amber over 100 ms, orange losing packets, red down. Choose a column for its history.</p>
        </Panel>
      )}
      {chosen && <CheckDetail check={chosen} />}
    </section>
  );
}

function CheckDetail({ check }: { check: string }) {
  const [range, setRange] = useState<(typeof RANGES)[number]>(RANGES[0]);
  const [, rangeMs, step] = range;
  const data = useLoad(async () => {
    const to = Date.now(), from = to - rangeMs;
    const params = (metric: string) => qs({ metric, labels: `check:${check}`, from, to, step });
    const [rtt, loss, results, traces] = await Promise.all([
      api<QueryColumns>(`/v1/query?${params("check.rtt_ms")}`),
      api<QueryColumns>(`/v1/query?${params("check.loss_percent")}`),
      api<{ agents: { agent_id: string; events: { kind: string; timestamp_ms: number; up: boolean; reason_message?: string }[] }[] }>(`/v1/checks/${encodeURIComponent(check)}/results?${qs({ from, to })}`),
      api<{ traceroutes: Traceroute[] }>(`/v1/traceroutes?${qs({ check, from: to - 7 * 86_400_000, to })}`),
    ]);
    return { rtt, loss, results, trace: traces.traceroutes[0] };
  }, [check, rangeMs]);
  const d = data.data;
  const spans = d?.results.agents.flatMap((a) => downSpans(a.events)) ?? [];
  const rtt = d && queryAsAligned(d.rtt);
  const loss = d && queryAsAligned(d.loss);
  return (
    <Panel title={`Check ${check}`} id="check-title" actions={
      <span class="tabs" role="group" aria-label="Range">{RANGES.map((r) => <button type="button" class={`seg${r === range ? " on" : ""}`} aria-pressed={r === range} onClick={() => setRange(r)}>{r[0]}</button>)}</span>
    }>
      {data.error && <p class="error" role="alert">{data.error}</p>}
      {rtt && <TimeChart id="check-rtt" title="Latency (ms): mean per bucket, min–max band; shaded where an agent saw it down" names={rtt.names} data={rtt.data} spans={spans} format={(v) => `${num(v, 1)} ms`} />}
      {loss && loss.names.length > 0 && <TimeChart id="check-loss" title="Packet loss (%)" names={loss.names} data={loss.data} format={(v) => `${num(v, 0)}%`} max={100} />}
      {d && (d.trace ? <TraceroutePath trace={d.trace} /> : <p class="muted">No traced path in the last 7 days (a path is traced when an icmp or tcp check goes down).</p>)}
    </Panel>
  );
}
