import type { ActiveAlert } from "../lib/fleet-model.ts";
import { labelText, when } from "../lib/format.ts";
import { silenceFor, type AlertSilence } from "../lib/silences.ts";

/** What a row may offer: acknowledging it, withdrawing one's acknowledgement, silencing it (operators). */
export interface AckActions { acknowledge(a: ActiveAlert): void; withdraw(a: ActiveAlert): void; silence(a: ActiveAlert): void }

/** Firing alerts, newest first, as a list a screen reader reads in order; silenced ones say until when. */
export function AlertList({ alerts, showAgent, actions, silences = [] }: { alerts: ActiveAlert[]; showAgent: boolean; actions?: AckActions; silences?: AlertSilence[] }) {
  if (alerts.length === 0) return <p class="muted">No alert is firing.</p>;
  return (
    <ul class="alerts">
      {alerts.map((a) => (
        <li class={`alert ${a.severity}`} data-episode={a.episode_id ?? undefined}>
          <span class={`sev ${a.severity}`}>{a.severity}</span>
          {showAgent && <a href={`/agents/${encodeURIComponent(a.agent_id)}`}>{a.agent_id}</a>}
          <span class="msg">{a.message}</span>
          <span class="muted">{a.metric} {labelText(a.labels)} · since {when(a.fired_at)}</span>
          {a.acknowledged_by && <span class="ack">acknowledged by {a.acknowledged_by}{a.ack_note ? `: ${a.ack_note}` : ""}</span>}
          {silenceFor(silences, a) && <span class="silenced">silenced until {when(silenceFor(silences, a)!.ends_at)}</span>}
          {actions && a.episode_id && (a.acknowledged_by
            ? <button type="button" class="secondary write" aria-label={`Withdraw acknowledgement of ${a.message}`} onClick={() => actions.withdraw(a)}>Withdraw</button>
            : <button type="button" class="secondary write" aria-label={`Acknowledge ${a.message}`} onClick={() => actions.acknowledge(a)}>Acknowledge</button>)}
          {actions && a.episode_id && !silenceFor(silences, a) && <button type="button" class="secondary write" aria-label={`Silence ${a.message}`} onClick={() => actions.silence(a)}>Silence</button>}
        </li>
      ))}
    </ul>
  );
}
