import { useState } from "preact/hooks";
import { api, session } from "../lib/api.ts";
import { when } from "../lib/format.ts";
import { OneTimeSecret } from "./secret.tsx";
import { confirmed, OutcomeNote, Panel, useLoad, useWrite } from "./ui.tsx";

interface User { username: string; role: string; created_at: string }
interface Token { id: string; name: string; role: string; created_by: string; created_at: string; expires_at: string | null; last_used_at?: string | null }
const ROLES = ["viewer", "operator", "admin"];

/** Admins only (the page shows it to them alone). */
export function UsersPanel() {
  const users = useLoad(() => api<User[]>("/v1/users"));
  const [outcome, write] = useWrite();
  const add = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    await write("User added.", async () => {
      await api("/v1/users", { method: "POST", body: { username: String(f.get("username")).trim(), password: String(f.get("password")), role: String(f.get("role")) } });
      form.reset();
    }, users.reload);
  };
  const setRole = (u: User, role: string) => void write(`${u.username} is now ${role}.`, () => api(`/v1/users/${encodeURIComponent(u.username)}`, { method: "PUT", body: { role } }), users.reload);
  const remove = (u: User) => confirmed(`Delete the user ${u.username}?`) &&
    void write("User deleted.", () => api(`/v1/users/${encodeURIComponent(u.username)}`, { method: "DELETE" }), users.reload);
  return (
    <Panel title="Users" id="users">
      <form class="form-grid" onSubmit={add} aria-label="Add a user">
        <label>New username<input name="username" required autocomplete="off" /></label>
        <label>New password<input name="password" type="password" required autocomplete="new-password" /></label>
        <label>Role<select name="role">{ROLES.map((r) => <option>{r}</option>)}</select></label>
        <div><button type="submit" class="write">Add user</button></div>
      </form>
      <OutcomeNote outcome={outcome} />
      {users.error && <p class="error" role="alert">{users.error}</p>}
      {users.data && (
        <div class="table-wrap"><table class="stack">
          <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Since</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
          <tbody>{users.data.map((u) => (
            <tr>
              <th scope="row">{u.username}</th>
              <td data-label="Role"><select aria-label={`Role of ${u.username}`} class="write" disabled={u.username === session()?.username} onChange={(e) => setRole(u, (e.target as HTMLSelectElement).value)}>
                {ROLES.map((r) => <option selected={r === u.role}>{r}</option>)}
              </select></td>
              <td data-label="Since">{when(u.created_at)}</td>
              <td class="actions">{u.username !== session()?.username && <button type="button" class="danger write" aria-label={`Delete user ${u.username}`} onClick={() => remove(u)}>Delete</button>}</td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
    </Panel>
  );
}

export function TokensPanel() {
  const tokens = useLoad(() => api<Token[]>("/v1/auth/tokens"));
  const [outcome, write] = useWrite();
  const [issued, setIssued] = useState<{ name: string; token: string } | null>(null);
  const add = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const days = Number(f.get("days") || 0);
    await write("Token created.", async () => {
      setIssued(await api<{ name: string; token: string }>("/v1/auth/tokens", { method: "POST", body: { name: String(f.get("name")).trim(), role: String(f.get("role")), ...(days > 0 && { expires_in_secs: days * 86400 }) } }));
      form.reset();
    }, tokens.reload);
  };
  const revoke = (t: Token) => confirmed(`Revoke the token “${t.name}”? It stops working at once.`) &&
    void write("Token revoked.", () => api(`/v1/auth/tokens/${encodeURIComponent(t.id)}`, { method: "DELETE" }), tokens.reload);
  return (
    <Panel title="API tokens" id="tokens">
      <form class="form-grid" onSubmit={add} aria-label="Create an API token">
        <label>Token name<input name="name" required placeholder="prometheus" /></label>
        <label>Token role<select name="role">{ROLES.map((r) => <option>{r}</option>)}</select></label>
        <label>Expires in days (0: never)<input name="days" type="number" min="0" defaultValue="0" /></label>
        <div><button type="submit" class="write">Create token</button></div>
      </form>
      <OutcomeNote outcome={outcome} />
      {issued && <OneTimeSecret label={`Token “${issued.name}”`} value={issued.token}><p>Send it as <code>Authorization: Bearer …</code>.</p></OneTimeSecret>}
      {tokens.error && <p class="error" role="alert">{tokens.error}</p>}
      {tokens.data && (
        <div class="table-wrap"><table class="stack">
          <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Created by</th><th scope="col">Expires</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
          <tbody>
            {tokens.data.length === 0 && <tr><td colSpan={5} class="muted">No API tokens.</td></tr>}
            {tokens.data.map((t) => (
              <tr><th scope="row">{t.name}</th><td data-label="Role">{t.role}</td><td data-label="Created by">{t.created_by}</td><td data-label="Expires">{t.expires_at ? when(t.expires_at) : "never"}</td>
                <td class="actions"><button type="button" class="danger write" aria-label={`Revoke token ${t.name}`} onClick={() => revoke(t)}>Revoke</button></td></tr>
            ))}
          </tbody>
        </table></div>
      )}
    </Panel>
  );
}
