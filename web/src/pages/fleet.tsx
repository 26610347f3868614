import { Component, createRef } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, qs } from "../lib/api.ts";
import { bytes, duration, pct } from "../lib/format.ts";
import { openLiveFeed } from "../lib/live.ts";
import { drawSparkline, SPARK_HEIGHT, SPARK_WIDTH } from "../lib/sparkline.ts";
import { FleetModel, LIVE_METRICS, OVERVIEW_METRICS, SPARK_WINDOW_MS, statusOf, type ActiveAlert, type AgentCard, type AgentInfo, type Overview, type Status } from "../lib/fleet-model.ts";

type SortKey = "name" | "cpu" | "memory" | "status";
const STATUS_RANK: Record<Status, number> = { alerting: 0, offline: 1, online: 2 };
const last = (d: { v: number[] }) => d.v[d.v.length - 1];
const SORTS: Record<SortKey, (a: AgentCard, b: AgentCard) => number> = {
  name: (a, b) => a.id.localeCompare(b.id),
  cpu: (a, b) => (last(b.cpu) ?? -1) - (last(a.cpu) ?? -1),
  memory: (a, b) => (last(b.memory) ?? -1) - (last(a.memory) ?? -1),
  status: (a, b) => STATUS_RANK[statusOf(a)] - STATUS_RANK[statusOf(b)] || a.id.localeCompare(b.id),
};

const COLORS = { cpu: "#3b82f6", memory: "#8b5cf6", disk: "#f59e0b", network: "#10b981" };
/** How often the whole truth (statuses, alerts) is read again; live events cover the time between. */
const REFRESH_MS = 10_000;

export function FleetPage() {
  const model = useMemo(() => new FleetModel(), []);
  const drawers = useMemo(() => new Map<string, FleetCard>(), []);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<SortKey>("name");
  const reloadRef = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const [overview, infos, alerts] = await Promise.all([
          api<Overview>(`/v1/overview?${qs({ metrics: OVERVIEW_METRICS.join(","), window: "15m", step: 30 })}`),
          api<AgentInfo[]>("/v1/agents"), api<ActiveAlert[]>("/v1/alerts/active"),
        ]);
        if (stopped) return;
        performance.mark("tsmon:fleet-data");
        model.load(overview, infos, alerts);
        setLoaded(true);
        setError(null);
        setVersion((v) => v + 1);
      } catch (err) {
        if (!stopped) setError((err as Error).message);
      }
    };
    reloadRef.current = () => void load();
    void load();
    const refresh = setInterval(async () => {
      try {
        const [infos, alerts] = await Promise.all([api<AgentInfo[]>("/v1/agents"), api<ActiveAlert[]>("/v1/alerts/active")]);
        if (infos.some((i) => !model.agents.has(i.agent_id))) return load();
        const a = model.applyAgents(infos), b = model.applyAlerts(alerts);
        if (a || b) setVersion((v) => v + 1);
        for (const card of drawers.values()) card.redraw();
      } catch {
        /* the next refresh tries again; the live feed keeps going */
      }
    }, REFRESH_MS);
    const feed = openLiveFeed({
      agents: ["*"], metrics: LIVE_METRICS,
      onBatch: (batch) => {
        const { changed, statusChanged, unknown } = model.applyBatch(batch);
        for (const id of changed) drawers.get(id)?.redraw();
        if (statusChanged) setVersion((v) => v + 1);
        if (unknown) void load();
      },
    });
    return () => {
      stopped = true;
      clearInterval(refresh);
      feed.close();
    };
  }, []);

  const counts = { online: 0, offline: 0, alerting: 0 };
  for (const a of model.agents.values()) counts[statusOf(a)]++;
  const needle = filter.trim().toLowerCase();
  const shown = [...model.agents.values()]
    .filter((a) => !needle || a.id.toLowerCase().includes(needle) || (a.os ?? "").toLowerCase().includes(needle) || statusOf(a) === needle)
    .sort(SORTS[sort]);

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
      </div>
      {error && <p class="error" role="alert">{error} <button type="button" onClick={() => reloadRef.current()}>Retry</button></p>}
      {loaded && model.agents.size === 0 && <p class="muted">No agent has reported yet. Start one with <code>npm run agent -- --server-url 127.0.0.1:9090</code>, or add it under <a href="/settings">Settings</a> first when agents must authenticate.</p>}
      {loaded && model.agents.size > 0 && shown.length === 0 && <p class="muted">No agent matches “{filter}”.</p>}
      <ul class="cards" aria-label="Agents" aria-busy={!loaded}>
        {shown.map((a) => <FleetCard key={a.id} agent={a} status={statusOf(a)} drawers={drawers} />)}
      </ul>
    </section>
  );
}

interface CardProps { agent: AgentCard; status: Status; drawers: Map<string, FleetCard> }

/** Shared by every card: only visible cards are drawn; the rest are drawn when scrolled to. */
const visible = new WeakSet<Element>();
const pending = new WeakMap<Element, FleetCard>();
const observer = typeof IntersectionObserver === "undefined" ? undefined : new IntersectionObserver((entries) => {
  for (const e of entries) {
    if (e.isIntersecting) {
      visible.add(e.target);
      pending.get(e.target)?.redraw();
    } else visible.delete(e.target);
  }
}, { rootMargin: "200px" });

/**
 * One agent. Rendered by Preact only when its status or identity changes; its sparklines
 * and figures are redrawn directly by `redraw()` when a report for it arrives.
 */
class FleetCard extends Component<CardProps> {
  private root = createRef<HTMLLIElement>();
  private canvases = { cpu: createRef<HTMLCanvasElement>(), memory: createRef<HTMLCanvasElement>(), disk: createRef<HTMLCanvasElement>(), network: createRef<HTMLCanvasElement>() };
  private figures = { cpu: createRef<HTMLSpanElement>(), memory: createRef<HTMLSpanElement>(), disk: createRef<HTMLSpanElement>(), network: createRef<HTMLSpanElement>(), uptime: createRef<HTMLSpanElement>() };
  private badge = createRef<HTMLSpanElement>();

  override shouldComponentUpdate(next: CardProps): boolean {
    return next.agent !== this.props.agent || next.status !== this.props.status;
  }
  override componentDidMount(): void {
    this.props.drawers.set(this.props.agent.id, this);
    const el = this.root.current!;
    pending.set(el, this);
    // The observer reports every card once at first: the visible ones are drawn then.
    if (observer) observer.observe(el);
    else {
      visible.add(el);
      this.draw();
    }
  }
  override componentDidUpdate(): void {
    this.props.drawers.set(this.props.agent.id, this);
    this.redraw();
  }
  override componentWillUnmount(): void {
    if (this.props.drawers.get(this.props.agent.id) === this) this.props.drawers.delete(this.props.agent.id);
    if (this.root.current) observer?.unobserve(this.root.current);
  }

  /** Redraws now when on screen, else when scrolled to. */
  redraw(): void {
    const el = this.root.current;
    if (el && visible.has(el)) this.draw();
  }

  private draw(): void {
    const a = this.props.agent;
    const to = Date.now(), from = to - SPARK_WINDOW_MS;
    for (const key of ["cpu", "memory", "disk"] as const) {
      const c = this.canvases[key].current;
      if (c) drawSparkline(c, a[key], from, to, COLORS[key], 100);
      const f = this.figures[key].current;
      if (f) f.textContent = pct(last(a[key]));
    }
    const n = this.canvases.network.current;
    if (n) drawSparkline(n, a.network, from, to, COLORS.network);
    const nf = this.figures.network.current;
    if (nf) nf.textContent = bytes(last(a.network), "/s");
    const up = this.figures.uptime.current;
    if (up) up.textContent = a.uptimeSecs === undefined ? "–" : duration(a.uptimeSecs);
    const status = statusOf(a), b = this.badge.current;
    if (b && b.textContent !== status) {
      b.textContent = status;
      b.className = `badge ${status}`;
    }
  }

  override render({ agent, status }: CardProps) {
    const row = (key: keyof typeof COLORS, label: string) => (
      <div class="spark">
        <span class="spark-label">{label}</span>
        <canvas ref={this.canvases[key]} width={SPARK_WIDTH} height={SPARK_HEIGHT} data-metric={key} role="img" aria-label={`${label}, last 15 minutes`} />
        <span class="spark-value" ref={this.figures[key]}>–</span>
      </div>
    );
    return (
      <li class={`card ${status}`} ref={this.root} data-agent={agent.id}>
        <div class="card-head">
          <a href={`/agents/${encodeURIComponent(agent.id)}`} class="agent-id">{agent.id}</a>
          <span class={`badge ${status}`} ref={this.badge} data-testid="status">{status}</span>
        </div>
        <div class="card-meta"><span>{agent.os ?? "OS unknown"}</span><span>up <span ref={this.figures.uptime}>–</span></span></div>
        {row("cpu", "CPU")}
        {row("memory", "Memory")}
        {row("disk", "Disk")}
        {row("network", "Net in")}
      </li>
    );
  }
}
