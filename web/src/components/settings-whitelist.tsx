import { useState } from "preact/hooks";
import { api } from "../lib/api.ts";
import { when } from "../lib/format.ts";
import { OneTimeSecret } from "./secret.tsx";
import { confirmed, IfRole, OutcomeNote, Panel, useLoad, useWrite } from "./ui.tsx";

interface Whitelisted { agent_id: string; description: string; created_at: string; last_seen: string | null; status: string }

export function WhitelistPanel() {
  const list = useLoad(() => api<Whitelisted[]>("/v1/agents/whitelist"));
  const [outcome, write] = useWrite();
  const [issued, setIssued] = useState<{ agent_id: string; token: string } | null>(null);
  const add = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    await write("Agent added.", async () => {
      setIssued(await api<{ agent_id: string; token: string }>("/v1/agents/whitelist", { method: "POST", body: { agent_id: String(f.get("agent_id")).trim(), description: String(f.get("description")) } }));
      form.reset();
    }, list.reload);
  };
  const rotate = (a: Whitelisted) => confirmed(`Issue a new token for ${a.agent_id}? The old one stops working.`) &&
    void write("New token issued.", async () => setIssued(await api(`/v1/agents/whitelist/${encodeURIComponent(a.agent_id)}/token`, { method: "POST" })));
  const remove = (a: Whitelisted) => confirmed(`Remove ${a.agent_id} from the whitelist? It can no longer report.`) &&
    void write("Agent removed.", () => api(`/v1/agents/whitelist/${encodeURIComponent(a.agent_id)}`, { method: "DELETE" }), list.reload);
  return (
    <Panel title="Agents (whitelist)" id="agents">
      <p class="muted">With <code>require_agent_auth</code> on, only these agents may report, each with its own token.</p>
      <IfRole role="operator">
        <form class="form-grid" onSubmit={add} aria-label="Add an agent">
          <label>Agent id<input name="agent_id" required maxLength={128} pattern="[!-~]+" title="printable ASCII without spaces" /></label>
          <label>Description<input name="description" maxLength={500} /></label>
          <div><button type="submit" class="write">Add agent</button></div>
        </form>
      </IfRole>
      <OutcomeNote outcome={outcome} />
      {issued && (
        <OneTimeSecret label={`Token of ${issued.agent_id}`} value={issued.token}>
          <p>Run the agent with it:</p>
          <code>npx tsmon-agent --server-url {location.origin} --agent-id {issued.agent_id} --token {issued.token}</code>
        </OneTimeSecret>
      )}
      {list.error && <p class="error" role="alert">{list.error}</p>}
      {list.data && (
        <div class="table-wrap"><table class="stack">
          <thead><tr><th scope="col">Agent</th><th scope="col">Description</th><th scope="col">Status</th><th scope="col">Last seen</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
          <tbody>
            {list.data.length === 0 && <tr><td colSpan={5} class="muted">No agent is whitelisted.</td></tr>}
            {list.data.map((a) => (
              <tr>
                <th scope="row">{a.agent_id}</th><td data-label="Description">{a.description}</td><td data-label="Status">{a.status}</td><td data-label="Last seen">{when(a.last_seen)}</td>
                <td class="actions"><IfRole role="operator">
                  <button type="button" class="secondary write" aria-label={`New token for ${a.agent_id}`} onClick={() => rotate(a)}>New token</button>{" "}
                  <button type="button" class="danger write" aria-label={`Remove ${a.agent_id}`} onClick={() => remove(a)}>Remove</button>
                </IfRole></td>
              </tr>
            ))}
          </tbody>
        </table></div>
      )}
    </Panel>
  );
}
