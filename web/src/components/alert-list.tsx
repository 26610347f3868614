import type { ActiveAlert } from "../lib/fleet-model.ts";
import { labelText, when } from "../lib/format.ts";

/** Firing alerts, newest first, as a list a screen reader reads in order. */
export function AlertList({ alerts, showAgent }: { alerts: ActiveAlert[]; showAgent: boolean }) {
  if (alerts.length === 0) return <p class="muted">No alert is firing.</p>;
  return (
    <ul class="alerts">
      {alerts.map((a) => (
        <li class={`alert ${a.severity}`}>
          <span class={`sev ${a.severity}`}>{a.severity}</span>
          {showAgent && <a href={`/agents/${encodeURIComponent(a.agent_id)}`}>{a.agent_id}</a>}
          <span class="msg">{a.message}</span>
          <span class="muted">{a.metric} {labelText(a.labels)} · since {when(a.fired_at)}</span>
        </li>
      ))}
    </ul>
  );
}
