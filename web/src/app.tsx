import { useEffect, useState } from "preact/hooks";
import { onSession, session, setSession, type Session } from "./lib/api.ts";
import { usePath } from "./lib/router.ts";
import { lazyPage } from "./lib/lazy-page.tsx";
import { LoginPage } from "./pages/login.tsx";
import { FleetPage } from "./pages/fleet.tsx";

// In the first script only the fleet page (where every visit starts) and sign-in; the rest,
// the charts library with it, is fetched when first shown.
const HostPage = lazyPage(() => import("./pages/host.tsx").then((m) => m.HostPage));
const AlertsPage = lazyPage(() => import("./pages/alerts.tsx").then((m) => m.AlertsPage));
const SettingsPage = lazyPage(() => import("./pages/settings.tsx").then((m) => m.SettingsPage));
const NetworkPage = lazyPage(() => import("./pages/network.tsx").then((m) => m.NetworkPage));
const ReportsPage = lazyPage(() => import("./pages/reports.tsx").then((m) => m.ReportsPage));

/** Pages by path: the first whose pattern matches renders, with the captured parts. */
const ROUTES: { pattern: RegExp; title: string; page: (m: string[]) => preact.JSX.Element }[] = [
  { pattern: /^\/$/, title: "Fleet", page: () => <FleetPage /> },
  { pattern: /^\/agents\/([^/]+)$/, title: "Host", page: (m) => <HostPage agentId={decodeURIComponent(m[1]!)} /> },
  { pattern: /^\/alerts$/, title: "Alerts", page: () => <AlertsPage /> },
  { pattern: /^\/settings$/, title: "Settings", page: () => <SettingsPage /> },
  { pattern: /^\/network$/, title: "Network", page: () => <NetworkPage /> },
  { pattern: /^\/reports$/, title: "Reports", page: () => <ReportsPage /> },
];

const NAV = [["/", "Fleet"], ["/alerts", "Alerts"], ["/network", "Network"], ["/reports", "Reports"], ["/settings", "Settings"]] as const;

export function App() {
  const [who, setWho] = useState<Session | null>(session());
  const path = usePath();
  useEffect(() => onSession(setWho), []);
  const route = ROUTES.find((r) => r.pattern.test(path));
  useEffect(() => {
    document.title = `${route?.title ?? "Not found"} · tsmon`;
  }, [route]);
  if (!who) return <LoginPage />;
  const section = path === "/" || path.startsWith("/agents/") ? "/" : path;
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="/">tsmon</a>
        <nav aria-label="Main">
          {NAV.map(([href, label]) => <a href={href} aria-current={section === href ? "page" : undefined}>{label}</a>)}
        </nav>
        <span class="who" title={`role: ${who.role}`}>{who.username} <span class="role">{who.role}</span></span>
        <button type="button" class="link" onClick={() => setSession(null)}>Sign out</button>
      </header>
      <main id="main">
        {route ? route.page(path.match(route.pattern)!) : <section><h1>Not found</h1><p>No page at {path}. <a href="/">Back to the fleet</a>.</p></section>}
      </main>
    </>
  );
}
