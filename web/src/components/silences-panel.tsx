import { useState } from "preact/hooks";
import { api } from "../lib/api.ts";
import { when } from "../lib/format.ts";
import type { AlertSilence, SilenceWindow } from "../lib/silences.ts";
import { confirmed, IfRole, OutcomeNote, Panel, useWrite } from "./ui.tsx";

const RECURRENCES = ["daily", "weekdays", "weekly", "once"] as const;

/**
 * What mutes notifications: silences of some alerts until a time (made from an active
 * alert's "Silence" button), and silence windows, times of day when nothing is sent.
 */
export function SilencesPanel({ silences, windows, reload }: { silences: AlertSilence[]; windows: SilenceWindow[]; reload: () => void }) {
  const [outcome, write] = useWrite();
  const end = (s: AlertSilence) => {
    if (confirmed("End this silence now? Notifications of these alerts go out again.")) void write("Silence ended.", () => api(`/v1/alerts/silences/${encodeURIComponent(s.id)}`, { method: "DELETE" }), reload);
  };
  const removeWindow = (w: SilenceWindow) => {
    if (confirmed(`Remove the silence window ${w.start_time}–${w.end_time}?`)) void write("Silence window removed.", () => api(`/v1/notifications/silences/${encodeURIComponent(w.id)}`, { method: "DELETE" }), reload);
  };
  return (
    <Panel title="Silences" id="silences-title">
      <OutcomeNote outcome={outcome} />
      {silences.length === 0
        ? <p class="muted">No alert is silenced. An active alert's <strong>Silence</strong> button mutes its notifications for a while.</p>
        : (
          <div class="table-wrap">
            <table class="silences stack">
              <thead><tr><th scope="col">Alerts</th><th scope="col">Until</th><th scope="col">By</th><th scope="col">Note</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
              <tbody>
                {silences.map((s) => (
                  <tr data-silence={s.id}>
                    <th scope="row">{[s.rule_id && `rule ${s.rule_id}`, s.agent_id && `agent ${s.agent_id}`].filter(Boolean).join(" on ")}</th>
                    <td data-label="Until">{when(s.ends_at)}</td><td data-label="By">{s.created_by}</td><td data-label="Note">{s.note}</td>
                    <td class="actions"><IfRole role="operator"><button type="button" class="secondary write" aria-label={`End silence of ${s.agent_id ?? s.rule_id}`} onClick={() => end(s)}>End</button></IfRole></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <h3 class="sub">Silence windows</h3>
      <p class="muted hint">During a window nothing is sent; messages wait for its end (alerts that resolved meanwhile are dropped).</p>
      <div class="table-wrap">
        <table class="windows stack">
          <thead><tr><th scope="col">Time</th><th scope="col">Repeats</th><th scope="col">Time zone</th><th scope="col">Note</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
          <tbody>
            {windows.length === 0 && <tr><td colSpan={5} class="muted">No silence windows.</td></tr>}
            {windows.map((w) => (
              <tr data-window={w.id}>
                <th scope="row">{w.start_time}–{w.end_time}</th>
                <td data-label="Repeats">{w.recurrence === "weekly" ? `weekly: ${(w.days ?? []).join(", ")}` : w.recurrence === "once" ? `once, ${w.date}` : w.recurrence}</td>
                <td data-label="Time zone">{w.timezone}</td><td data-label="Note">{w.note}</td>
                <td class="actions"><IfRole role="operator">{w.read_only ? <span class="muted">server.toml</span> : <button type="button" class="danger write" aria-label={`Remove silence window ${w.start_time}–${w.end_time}`} onClick={() => removeWindow(w)}>Remove</button>}</IfRole></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <IfRole role="operator"><WindowForm onSaved={reload} /></IfRole>
    </Panel>
  );
}

function WindowForm({ onSaved }: { onSaved: () => void }) {
  const [form, setForm] = useState({ start_time: "22:00", end_time: "06:00", recurrence: "daily" as (typeof RECURRENCES)[number], days: "sat,sun", date: "", timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", note: "" });
  const [outcome, write] = useWrite();
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    const body = {
      start_time: form.start_time, end_time: form.end_time, recurrence: form.recurrence, timezone: form.timezone, note: form.note,
      ...(form.recurrence === "weekly" && { days: form.days.split(",").map((d) => d.trim().toLowerCase()).filter(Boolean) }),
      ...(form.recurrence === "once" && { date: form.date }),
    };
    void write("Silence window added.", () => api("/v1/notifications/silences", { method: "POST", body }), onSaved);
  };
  return (
    <>
    <form class="toolbar window-form" onSubmit={submit}>
      <label>Starts<input type="time" value={form.start_time} onInput={set("start_time")} required /></label>
      <label>Ends<input type="time" value={form.end_time} onInput={set("end_time")} required /></label>
      <label>Repeats<select value={form.recurrence} onChange={set("recurrence")}>{RECURRENCES.map((r) => <option>{r}</option>)}</select></label>
      {form.recurrence === "weekly" && <label>Days<input value={form.days} onInput={set("days")} placeholder="mon,wed,fri" /></label>}
      {form.recurrence === "once" && <label>Date<input type="date" value={form.date} onInput={set("date")} required /></label>}
      <label>Time zone<input value={form.timezone} onInput={set("timezone")} /></label>
      <label>Note<input value={form.note} onInput={set("note")} placeholder="nightly backups" /></label>
      <button type="submit" class="write">Add window</button>
    </form>
    <OutcomeNote outcome={outcome} />
    </>
  );
}
