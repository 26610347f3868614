import { api } from "../lib/api.ts";
import { when } from "../lib/format.ts";
import { confirmed, IfRole, OutcomeNote, Panel, useLoad, useWrite } from "./ui.tsx";

interface Domain { id: string; domain: string; port: number; enabled: boolean; note: string | null; last_checked_at: string | null }
interface Status { domain: string; port: number; is_valid: boolean; days_until_expiry: number | null; not_after: string | null; error: string | null; checked_at: string }

export function CertificatesPanel() {
  const domains = useLoad(() => Promise.all([api<Domain[]>("/v1/certs/domains"), api<Status[]>("/v1/certs/status")]));
  const [outcome, write] = useWrite();
  const add = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const port = Number(f.get("port") || 443);
    await write("Domain added; its first check runs shortly.", async () => {
      await api("/v1/certs/domains", { method: "POST", body: { domain: String(f.get("domain")).trim(), port } });
      form.reset();
    }, domains.reload);
  };
  const check = (d: Domain) => void write(`${d.domain} checked.`, () => api(`/v1/certs/domains/${encodeURIComponent(d.id)}/check`, { method: "POST" }), domains.reload);
  const remove = (d: Domain) => confirmed(`Stop watching ${d.domain}?`) &&
    void write("Domain removed.", () => api(`/v1/certs/domains/${encodeURIComponent(d.id)}`, { method: "DELETE" }), domains.reload);
  const [list, statuses] = domains.data ?? [[], []];
  const statusOf = (d: Domain) => statuses.find((s) => s.domain === d.domain && s.port === d.port);
  return (
    <Panel title="Certificates" id="certificates">
      <IfRole role="operator">
        <form class="form-grid" onSubmit={add} aria-label="Watch a domain">
          <label>Domain<input name="domain" required placeholder="example.com" /></label>
          <label>Port<input name="port" type="number" min="1" max="65535" defaultValue="443" /></label>
          <div><button type="submit" class="write">Add domain</button></div>
        </form>
      </IfRole>
      <OutcomeNote outcome={outcome} />
      {domains.error && <p class="error" role="alert">{domains.error}</p>}
      {domains.data && (
        <div class="table-wrap"><table class="stack">
          <thead><tr><th scope="col">Domain</th><th scope="col">Days left</th><th scope="col">Valid</th><th scope="col">Expires</th><th scope="col">Checked</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
          <tbody>
            {list.length === 0 && <tr><td colSpan={6} class="muted">No domains are watched.</td></tr>}
            {list.map((d) => {
              const s = statusOf(d);
              const days = s?.days_until_expiry;
              return (
                <tr>
                  <th scope="row">{d.domain}{d.port !== 443 && `:${d.port}`}</th>
                  <td data-label="Days left" class={days == null ? "" : days < 7 ? "sev critical" : days < 30 ? "sev warning" : ""}>{days ?? "–"}</td>
                  <td data-label="Valid">{s ? (s.is_valid ? "yes" : `no${s.error ? `: ${s.error}` : ""}`) : "not checked yet"}</td>
                  <td data-label="Expires">{when(s?.not_after)}</td>
                  <td data-label="Checked">{when(d.last_checked_at)}</td>
                  <td class="actions"><IfRole role="operator">
                    <button type="button" class="secondary write" aria-label={`Check ${d.domain} now`} onClick={() => check(d)}>Check now</button>{" "}
                    <button type="button" class="danger write" aria-label={`Remove ${d.domain}`} onClick={() => remove(d)}>Remove</button>
                  </IfRole></td>
                </tr>
              );
            })}
          </tbody>
        </table></div>
      )}
    </Panel>
  );
}
