import { Component, createRef } from "preact";
import { bytes, duration, pct } from "../lib/format.ts";
import { sparklinePaths, SPARK_HEIGHT, SPARK_WIDTH } from "../lib/sparkline.ts";
import { lastOf, SPARK_WINDOW_MS, statusOf, type AgentCard, type Status } from "../lib/fleet-model.ts";

/** Every card's height, px: the windowed grid places rows by it without reading layout. */
export const CARD_HEIGHT = 178;
type SparkKey = "cpu" | "memory" | "disk" | "network";
/** The percentages share a 0–100 scale; the network one scales to its own peak. */
const SPARKS: readonly { key: SparkKey; label: string; max?: number }[] = [
  { key: "cpu", label: "CPU", max: 100 }, { key: "memory", label: "Memory", max: 100 }, { key: "disk", label: "Disk", max: 100 }, { key: "network", label: "Net in" },
];
const paths = () => ({ line: createRef<SVGPathElement>(), area: createRef<SVGPathElement>() });

interface CardProps {
  agent: AgentCard;
  status: Status;
  /** Place in the filtered list and its length, for assistive technology. */
  position: number;
  setSize: number;
  drawers: Map<string, FleetCard>;
}

/**
 * One agent. Rendered by Preact only when its status, identity or place changes; its
 * sparklines and figures are redrawn directly by `redraw()` when a report for it arrives.
 * Only cards near the viewport exist (CardGrid), so each one draws as it mounts.
 */
export class FleetCard extends Component<CardProps> {
  private root = createRef<HTMLLIElement>();
  private sparks = { cpu: paths(), memory: paths(), disk: paths(), network: paths() };
  private figures = { cpu: createRef<HTMLSpanElement>(), memory: createRef<HTMLSpanElement>(), disk: createRef<HTMLSpanElement>(), network: createRef<HTMLSpanElement>(), uptime: createRef<HTMLSpanElement>() };
  private badge = createRef<HTMLSpanElement>();

  override shouldComponentUpdate(next: CardProps): boolean {
    const p = this.props;
    return next.agent !== p.agent || next.status !== p.status || next.position !== p.position || next.setSize !== p.setSize;
  }
  override componentDidMount(): void {
    this.props.drawers.set(this.props.agent.id, this);
    this.redraw();
  }
  override componentDidUpdate(): void {
    this.props.drawers.set(this.props.agent.id, this);
    this.redraw();
  }
  override componentWillUnmount(): void {
    if (this.props.drawers.get(this.props.agent.id) === this) this.props.drawers.delete(this.props.agent.id);
  }

  redraw(): void {
    const a = this.props.agent;
    const to = Date.now(), from = to - SPARK_WINDOW_MS;
    for (const { key, max } of SPARKS) {
      const { line, area } = sparklinePaths(a[key], from, to, max);
      const spark = this.sparks[key];
      // Unchanged paths are not set again: no style or paint work for them.
      if (spark.line.current && spark.line.current.getAttribute("d") !== line) {
        spark.line.current.setAttribute("d", line);
        spark.area.current!.setAttribute("d", area);
      }
      const f = this.figures[key].current;
      if (f) f.textContent = key === "network" ? bytes(lastOf(a.network), "/s") : pct(lastOf(a[key]));
    }
    const up = this.figures.uptime.current;
    if (up) up.textContent = a.uptimeSecs === undefined ? "–" : duration(a.uptimeSecs);
    // The status shows at once; the page re-renders (counts, order) at most every half second.
    const status = statusOf(a), b = this.badge.current;
    if (b && b.textContent !== status) {
      b.textContent = status;
      b.className = `badge ${status}`;
      this.root.current?.setAttribute("class", `card ${status}`);
    }
    // Marks a card drawn with its 15 minutes of history, not just live points (the bench waits for it).
    if (a.history) this.root.current?.setAttribute("data-drawn", "");
  }

  override render({ agent, status, position, setSize }: CardProps) {
    const row = ({ key, label }: (typeof SPARKS)[number]) => (
      <div class="spark" key={key}>
        <span class="spark-label">{label}</span>
        <svg viewBox={`0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`} preserveAspectRatio="none" data-metric={key} role="img" aria-label={`${label}, last 15 minutes`}>
          <path class="area" ref={this.sparks[key].area} /><path class="line" ref={this.sparks[key].line} />
        </svg>
        <span class="spark-value" ref={this.figures[key]}>–</span>
      </div>
    );
    return (
      <li class={`card ${status}`} ref={this.root} data-agent={agent.id} aria-posinset={position} aria-setsize={setSize}>
        <div class="card-head">
          <a href={`/agents/${encodeURIComponent(agent.id)}`} class="agent-id">{agent.id}</a>
          <span class={`badge ${status}`} ref={this.badge} data-testid="status">{status}</span>
        </div>
        <div class="card-meta"><span>{agent.os ?? "OS unknown"}</span><span>up <span ref={this.figures.uptime}>–</span></span></div>
        {SPARKS.map(row)}
      </li>
    );
  }
}
