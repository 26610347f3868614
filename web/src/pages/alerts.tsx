import { useState } from "preact/hooks";
import { api, can, qs } from "../lib/api.ts";
import { labelText, when } from "../lib/format.ts";
import type { ActiveAlert } from "../lib/fleet-model.ts";
import { AlertList } from "../components/alert-list.tsx";
import { RuleEditor } from "../components/rule-editor.tsx";
import { ruleFormOf } from "../components/rule-types/registry.ts";
import type { Rule } from "../components/rule-types/rule-type.ts";
import { SilencesPanel } from "../components/silences-panel.tsx";
import { confirmed, IfRole, OutcomeNote, Panel, useLoad, useWrite } from "../components/ui.tsx";
import { parseDurationSecs, type AlertSilence, type SilenceWindow } from "../lib/silences.ts";

interface HistoryEvent { id: string; status: string; rule_name: string; agent_id: string; metric: string; labels: Record<string, string>; severity: string; message: string; fired_at: string; resolved_at: string | null }

export function AlertsPage() {
  const active = useLoad(() => api<ActiveAlert[]>("/v1/alerts/active"));
  const rules = useLoad(() => api<Rule[]>("/v1/alerts/rules"));
  const silences = useLoad(() => Promise.all([api<AlertSilence[]>("/v1/alerts/silences"), api<SilenceWindow[]>("/v1/notifications/silences")]));
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const [outcome, write] = useWrite();
  const ackActions = {
    acknowledge: (a: ActiveAlert) => {
      const note = window.prompt(`Acknowledge “${a.message}”. A note for the others (optional):`, "");
      if (note === null) return;
      void write("Alert acknowledged.", () => api("/v1/alerts/active/ack", { method: "POST", body: { episode_id: a.episode_id, note } }), active.reload);
    },
    withdraw: (a: ActiveAlert) => void write("Acknowledgement withdrawn.", () => api(`/v1/alerts/active/ack/${encodeURIComponent(a.episode_id!)}`, { method: "DELETE" }), active.reload),
    silence: (a: ActiveAlert) => {
      const answer = window.prompt(`Silence notifications of “${a.message}” (this rule on ${a.agent_id}) for how long? Hours, or e.g. 30m, 4h, 2d:`, "1h");
      if (answer === null) return;
      const secs = parseDurationSecs(answer);
      if (secs === null) return void write("", () => Promise.reject(new Error(`“${answer}” is not a duration: give hours (2), or 30m, 4h, 2d`)));
      void write(`Silenced for ${answer.trim()}.`, () => api("/v1/alerts/silences", { method: "POST", body: { episode_id: a.episode_id, duration_secs: secs } }), silences.reload);
    },
  };
  const remove = (r: Rule) => {
    if (confirmed(`Delete the rule “${r.name}”? Its alerts end; their history stays.`)) {
      void write(`Rule “${r.name}” deleted.`, () => api(`/v1/alerts/rules/${encodeURIComponent(r.id)}`, { method: "DELETE" }), rules.reload);
    }
  };
  return (
    <section>
      <div class="page-head"><h1>Alerts</h1></div>
      <OutcomeNote outcome={outcome} />
      <Panel title={`Active (${active.data?.length ?? "…"})`} id="active-title" actions={<button type="button" class="secondary" onClick={active.reload}>Refresh</button>}>
        {active.error && <p class="error" role="alert">{active.error}</p>}
        {active.data && <AlertList alerts={active.data} showAgent actions={can("operator") ? ackActions : undefined} silences={silences.data?.[0]} />}
        <p class="muted hint">Acknowledging tells others someone is on it; it changes no notification. Silencing mutes this alert's notifications for a while.</p>
      </Panel>
      {silences.error && <p class="error" role="alert">{silences.error}</p>}
      {silences.data && <SilencesPanel silences={silences.data[0]} windows={silences.data[1]} reload={silences.reload} />}
      <Panel title="Rules" id="rules-title" actions={<IfRole role="operator"><button type="button" class="write" onClick={() => setEditing("new")}>New rule</button></IfRole>}>
        {editing && <RuleEditor rule={editing === "new" ? null : editing} onDone={(saved) => { setEditing(null); if (saved) rules.reload(); }} />}
        {rules.error && <p class="error" role="alert">{rules.error}</p>}
        {rules.data && (
          <div class="table-wrap">
            <table class="rules stack">
              <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Condition</th><th scope="col">Agents</th><th scope="col">Severity</th><th scope="col">Source</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
              <tbody>
                {rules.data.length === 0 && <tr><td colSpan={7} class="muted">No rules yet.</td></tr>}
                {rules.data.map((r) => (
                  <tr data-rule={r.id}>
                    <th scope="row">{r.name}{!r.enabled && <span class="muted"> (disabled)</span>}</th>
                    <td data-label="Type">{r.type}</td>
                    <td data-label="Condition" class="span">{ruleFormOf(r.type).summary(r)}</td>
                    <td data-label="Agents"><code>{r.agent_pattern}</code></td>
                    <td data-label="Severity"><span class={`sev ${r.severity}`}>{r.severity}</span></td>
                    <td data-label="Source">{r.source}</td>
                    <td class="actions">
                      <IfRole role="operator">
                        {!r.read_only && <>
                          <button type="button" class="secondary write" aria-label={`Edit rule ${r.name}`} onClick={() => setEditing(r)}>Edit</button>{" "}
                          <button type="button" class="danger write" aria-label={`Delete rule ${r.name}`} onClick={() => remove(r)}>Delete</button>
                        </>}
                        {r.read_only && <span class="muted">server.toml</span>}
                      </IfRole>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      <AlertHistory />
    </section>
  );
}

function AlertHistory() {
  const [filters, setFilters] = useState({ severity: "", status: "", agent: "" });
  const [page, setPage] = useState(0);
  const LIMIT = 50;
  const history = useLoad(() => api<{ total: number; events: HistoryEvent[] }>(`/v1/alerts/history?${qs({ severity: filters.severity || undefined, status: filters.status || undefined, agent: filters.agent || undefined, limit: LIMIT, offset: page * LIMIT })}`), [filters, page]);
  const set = (k: keyof typeof filters) => (e: Event) => {
    setPage(0);
    setFilters({ ...filters, [k]: (e.target as HTMLInputElement).value });
  };
  return (
    <Panel title="History" id="history-title">
      <div class="toolbar">
        <label>Severity<select value={filters.severity} onChange={set("severity")}><option value="">any</option><option>critical</option><option>warning</option><option>info</option></select></label>
        <label>Status<select value={filters.status} onChange={set("status")}><option value="">any</option><option>firing</option><option>resolved</option></select></label>
        <label>Agent<input value={filters.agent} onChange={set("agent")} placeholder="agent id" /></label>
      </div>
      {history.error && <p class="error" role="alert">{history.error}</p>}
      {history.data && (
        <>
          <div class="table-wrap">
            <table class="history stack">
              <thead><tr><th scope="col">When</th><th scope="col">Status</th><th scope="col">Rule</th><th scope="col">Agent</th><th scope="col">Message</th></tr></thead>
              <tbody>
                {history.data.events.length === 0 && <tr><td colSpan={5} class="muted">No events.</td></tr>}
                {history.data.events.map((e) => (
                  <tr>
                    <td data-label="When">{when(e.resolved_at ?? e.fired_at)}</td>
                    <td data-label="Status"><span class={`sev ${e.status === "firing" ? e.severity : "info"}`}>{e.status}</span></td>
                    <td data-label="Rule">{e.rule_name}</td>
                    <td data-label="Agent"><a href={`/agents/${encodeURIComponent(e.agent_id)}`}>{e.agent_id}</a></td>
                    <td data-label="Message" class="span">{e.message} <span class="muted">{labelText(e.labels)}</span></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="form-actions">
            <span class="muted">{history.data.total} {history.data.total === 1 ? "event" : "events"}</span>
            <button type="button" class="secondary" disabled={page === 0} onClick={() => setPage(page - 1)}>Newer</button>
            <button type="button" class="secondary" disabled={(page + 1) * LIMIT >= history.data.total} onClick={() => setPage(page + 1)}>Older</button>
          </div>
        </>
      )}
    </Panel>
  );
}
