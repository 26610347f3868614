import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, qs } from "../lib/api.ts";
import { openLiveFeed } from "../lib/live.ts";
import { CardGrid } from "../components/card-grid.tsx";
import { CARD_HEIGHT, FleetCard } from "../components/fleet-card.tsx";
import { FleetModel, lastOf, LIVE_METRICS, OVERVIEW_METRICS, statusOf, type ActiveAlert, type AgentCard, type AgentInfo, type Overview, type Status } from "../lib/fleet-model.ts";
import { agentGlob, OverviewLoader } from "../lib/overview-loader.ts";

type SortKey = "name" | "cpu" | "memory" | "status";
const STATUS_RANK: Record<Status, number> = { alerting: 0, offline: 1, online: 2 };
/** Code-unit order, as the API sorts ids (and far cheaper than localeCompare on 1,000). */
const byId = (a: AgentCard, b: AgentCard) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const SORTS: Record<SortKey, (a: AgentCard, b: AgentCard) => number> = {
  name: byId,
  cpu: (a, b) => (lastOf(b.cpu) ?? -1) - (lastOf(a.cpu) ?? -1),
  memory: (a, b) => (lastOf(b.memory) ?? -1) - (lastOf(a.memory) ?? -1),
  status: (a, b) => STATUS_RANK[statusOf(a)] - STATUS_RANK[statusOf(b)] || byId(a, b),
};

/** How often the whole truth (statuses, alerts) is read again; live events cover the time between. */
const REFRESH_MS = 10_000;
/**
 * Live status changes re-render the page (counts, order) at most this often: when a whole
 * fleet comes back online, one render per frame would be one long task after another. The
 * cards' badges change at once (FleetCard.redraw).
 */
const STATUS_RENDER_MS = 500;
/** Card grid: CSS auto-fill's narrowest column and the gap, px. */
const MIN_COLUMN = 250, GAP = 12;

export function FleetPage() {
  const model = useMemo(() => new FleetModel(), []);
  const drawers = useMemo(() => new Map<string, FleetCard>(), []);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<SortKey>("name");
  const shownRef = useRef<readonly AgentCard[]>([]);
  const onScreenRef = useRef<readonly string[]>([]);
  const retryRef = useRef<() => void>(() => {});
  const loaderRef = useRef<OverviewLoader | undefined>(undefined);

  useEffect(() => {
    let stopped = false, refreshing = false, statusTimer = 0;
    const statusChanged = () => {
      statusTimer ||= setTimeout(() => {
        statusTimer = 0;
        setVersion((v) => v + 1);
      }, STATUS_RENDER_MS) as unknown as number;
    };
    const loader = new OverviewLoader({
      fetchChunk: (ids) => api<Overview>(`/v1/overview?${qs({ metrics: OVERVIEW_METRICS.join(","), window: "15m", step: 30, agents: ids.map(agentGlob).join(",") })}`),
      onScreen: () => onScreenRef.current,
      order: () => [...shownRef.current.map((a) => a.id), ...model.agents.keys()],
      onChunk: (overview) => {
        for (const id of model.ingestOverview(overview)) drawers.get(id)?.redraw();
        // For the bench: the cards on screen have their data, then every card has.
        if (!performance.getEntriesByName("tsmon:fleet-data").length) performance.mark("tsmon:fleet-data");
        if (!loader.queued && !performance.getEntriesByName("tsmon:fleet-history").length) performance.mark("tsmon:fleet-history");
      },
      onError: (err) => setError(err.message),
    });
    loaderRef.current = loader;
    /** Agents and alerts, the whole truth; agents new to the page get their history queued. */
    const refresh = async () => {
      if (refreshing) return;
      refreshing = true;
      try {
        const [infos, alerts] = await Promise.all([api<AgentInfo[]>("/v1/agents"), api<ActiveAlert[]>("/v1/alerts/active")]);
        if (stopped) return;
        const { added, statusChanged } = model.applyAgents(infos);
        const alertsChanged = model.applyAlerts(alerts);
        setLoaded(true);
        setError(null);
        if (statusChanged || alertsChanged) setVersion((v) => v + 1);
        for (const card of drawers.values()) card.redraw();
        // New agents are fetched once their cards are placed (onWindow): those on screen first.
        if (added.length) loader.queue(added);
        else loader.kick();
      } catch (err) {
        if (!stopped) setError((err as Error).message);
      } finally {
        refreshing = false;
      }
    };
    retryRef.current = () => void refresh();
    void refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    const feed = openLiveFeed({
      agents: ["*"], metrics: LIVE_METRICS,
      onBatch: (batch) => {
        const { changed, statusChanged: anyStatus, unknown } = model.applyBatch(batch);
        for (const id of changed) drawers.get(id)?.redraw();
        if (anyStatus) statusChanged();
        if (unknown) void refresh();
      },
    });
    return () => {
      stopped = true;
      clearTimeout(statusTimer);
      loader.stop();
      clearInterval(timer);
      feed.close();
    };
  }, []);

  const counts = { online: 0, offline: 0, alerting: 0 };
  for (const a of model.agents.values()) counts[statusOf(a)]++;
  const needle = filter.trim().toLowerCase();
  const shown = [...model.agents.values()]
    .filter((a) => !needle || a.id.toLowerCase().includes(needle) || (a.os ?? "").toLowerCase().includes(needle) || statusOf(a) === needle)
    .sort(SORTS[sort]);
  shownRef.current = shown;

  return (
    <section>
      <div class="page-head">
        <h1>Fleet</h1>
        <p class="counts" aria-live="polite" data-version={version}>
          <span class="badge online">{counts.online} online</span> <span class="badge offline">{counts.offline} offline</span> <span class="badge alerting">{counts.alerting} alerting</span>
        </p>
      </div>
      <div class="toolbar">
        <label>Filter<input type="search" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} placeholder="agent id, OS or status" /></label>
        <label>Sort by
          <select value={sort} onChange={(e) => setSort((e.target as HTMLSelectElement).value as SortKey)}>
            <option value="name">name</option><option value="cpu">CPU</option><option value="memory">memory</option><option value="status">status</option>
          </select>
        </label>
        {loaded && needle && <span class="hint muted">{shown.length} of {model.agents.size} shown</span>}
      </div>
      {error && <p class="error" role="alert">{error} <button type="button" onClick={() => retryRef.current()}>Retry</button></p>}
      {loaded && model.agents.size === 0 && <p class="muted">No agent has reported yet. Start one with <code>npm run agent -- --server-url 127.0.0.1:9090</code>, or add it under <a href="/settings">Settings</a> first when agents must authenticate.</p>}
      {loaded && model.agents.size > 0 && shown.length === 0 && <p class="muted">No agent matches “{filter}”.</p>}
      <CardGrid items={shown} label="Agents" busy={!loaded} rowHeight={CARD_HEIGHT} minColumn={MIN_COLUMN} gap={GAP}
        onWindow={(cards) => {
          onScreenRef.current = cards.map((a) => a.id);
          loaderRef.current?.kick();
        }}
        render={(a, i) => <FleetCard key={a.id} agent={a} status={statusOf(a)} position={i + 1} setSize={shown.length} drawers={drawers} />} />
    </section>
  );
}
