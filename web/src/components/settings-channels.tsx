import { useState } from "preact/hooks";
import { api } from "../lib/api.ts";
import { confirmed, IfRole, OutcomeNote, Panel, useLoad, useWrite } from "./ui.tsx";

interface Channel { id: string; type: string; name?: string; min_severity: string; send_resolved: boolean; read_only: boolean; [field: string]: unknown }
const TYPES = ["webhook", "slack", "discord", "email", "dingtalk", "weixin", "sms"];
const COMMON = new Set(["id", "type", "name", "min_severity", "send_resolved", "read_only"]);
const EXAMPLES: Record<string, string> = {
  webhook: '{"url": "https://example.com/hook"}', slack: '{"webhook_url": "https://hooks.slack.com/services/…"}', discord: '{"webhook_url": "https://discord.com/api/webhooks/…"}',
  email: '{"smtp_host": "smtp.example.com", "smtp_port": 587, "from": "tsmon@example.com", "to": ["ops@example.com"]}',
};

export function ChannelsPanel() {
  const channels = useLoad(() => api<Channel[]>("/v1/notifications/channels"));
  const [editing, setEditing] = useState<Channel | "new" | null>(null);
  const [outcome, write] = useWrite();
  const test = (c: Channel) => write(`Test sent through “${c.name ?? c.id}”.`, async () => {
    const r = await api<{ ok: boolean; detail: string }>(`/v1/notifications/channels/${encodeURIComponent(c.id)}/test`, { method: "POST" });
    if (!r.ok) throw new Error(`The test did not go through: ${r.detail}`);
  });
  const remove = (c: Channel) => confirmed(`Delete the channel “${c.name ?? c.id}”?`) &&
    void write("Channel deleted.", () => api(`/v1/notifications/channels/${encodeURIComponent(c.id)}`, { method: "DELETE" }), channels.reload);
  return (
    <Panel title="Notification channels" id="channels" actions={<IfRole role="operator"><button type="button" class="write" onClick={() => setEditing("new")}>Add channel</button></IfRole>}>
      <OutcomeNote outcome={outcome} />
      {editing && <ChannelForm channel={editing === "new" ? null : editing} onDone={(saved) => { setEditing(null); if (saved) channels.reload(); }} />}
      {channels.error && <p class="error" role="alert">{channels.error}</p>}
      {channels.data && (
        <div class="table-wrap"><table class="stack">
          <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">From severity</th><th scope="col">Resolved too</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
          <tbody>
            {channels.data.length === 0 && <tr><td colSpan={5} class="muted">No channels: alerts are recorded but nobody is told.</td></tr>}
            {channels.data.map((c) => (
              <tr>
                <th scope="row">{c.name ?? c.id}</th><td data-label="Type">{c.type}</td><td data-label="From severity">{c.min_severity}</td><td data-label="Resolved too">{c.send_resolved ? "yes" : "no"}</td>
                <td class="actions"><IfRole role="operator">
                  <button type="button" class="secondary write" aria-label={`Send test through ${c.name ?? c.id}`} onClick={() => void test(c)}>Send test</button>{" "}
                  {!c.read_only && <>
                    <button type="button" class="secondary write" aria-label={`Edit channel ${c.name ?? c.id}`} onClick={() => setEditing(c)}>Edit</button>{" "}
                    <button type="button" class="danger write" aria-label={`Delete channel ${c.name ?? c.id}`} onClick={() => remove(c)}>Delete</button>
                  </>}
                </IfRole></td>
              </tr>
            ))}
          </tbody>
        </table></div>
      )}
    </Panel>
  );
}

function ChannelForm({ channel, onDone }: { channel: Channel | null; onDone: (saved: boolean) => void }) {
  const [type, setType] = useState(channel?.type ?? "webhook");
  const [outcome, write] = useWrite();
  const extra = channel ? JSON.stringify(Object.fromEntries(Object.entries(channel).filter(([k]) => !COMMON.has(k)))) : EXAMPLES[type] ?? "{}";
  const save = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const ok = await write("Channel saved.", async () => {
      let fields: Record<string, unknown>;
      try {
        fields = JSON.parse(String(f.get("fields") || "{}")) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`Fields: not valid JSON (${(err as Error).message})`);
      }
      const body = { ...fields, type, name: String(f.get("name")).trim() || undefined, min_severity: String(f.get("min_severity")), send_resolved: f.get("send_resolved") === "on" };
      await api(channel ? `/v1/notifications/channels/${encodeURIComponent(channel.id)}` : "/v1/notifications/channels", { method: channel ? "PUT" : "POST", body });
    });
    if (ok) onDone(true);
  };
  return (
    <form class="panel editor" onSubmit={save} aria-label={channel ? "Edit channel" : "New channel"}>
      <div class="form-grid">
        <label>Type<select value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)} disabled={channel !== null}>{TYPES.map((t) => <option>{t}</option>)}</select></label>
        <label>Name<input name="name" defaultValue={channel?.name ?? ""} /></label>
        <label>From severity<select name="min_severity">{["info", "warning", "critical"].map((v) => <option selected={v === (channel?.min_severity ?? "warning")}>{v}</option>)}</select></label>
        <label class="check"><span>Send resolved</span><input name="send_resolved" type="checkbox" defaultChecked={channel?.send_resolved ?? true} /></label>
      </div>
      <label class="wide">Fields of {type} (JSON; secrets read "***" and are kept when left so)<textarea key={type} name="fields" rows={3} defaultValue={extra} /></label>
      <OutcomeNote outcome={outcome} />
      <div class="form-actions">
        <button type="submit" class="write">Save channel</button>
        <button type="button" class="link" onClick={() => onDone(false)}>Cancel</button>
      </div>
    </form>
  );
}
