import { can } from "../lib/api.ts";
import { ChannelsPanel } from "../components/settings-channels.tsx";
import { WhitelistPanel } from "../components/settings-whitelist.tsx";
import { TokensPanel, UsersPanel } from "../components/settings-people.tsx";
import { CertificatesPanel } from "../components/settings-certs.tsx";

const SECTIONS = [["channels", "Notification channels"], ["agents", "Agents"], ["users", "Users"], ["tokens", "API tokens"], ["certificates", "Certificates"]] as const;

export function SettingsPage() {
  return (
    <section>
      <div class="page-head"><h1>Settings</h1></div>
      <nav class="tabs" aria-label="Settings sections">
        {SECTIONS.map(([id, label]) => <a href={`#${id}`} class="seg">{label}</a>)}
      </nav>
      <ChannelsPanel />
      <WhitelistPanel />
      {can("admin") ? <><UsersPanel /><TokensPanel /></> : (
        <section class="panel" id="users"><h2>Users and API tokens</h2><p class="muted">Only an admin manages users and API tokens.</p></section>
      )}
      <CertificatesPanel />
    </section>
  );
}
