import net from "node:net";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { down, ms, reasonOf, up, type CheckPlugin, type CheckResult, type ProbeContext } from "./check.ts";
import { compileMatcher, describePattern, type TextMatcher } from "./expect.ts";
import { matcherSchema, portSchema } from "./fields.ts";

const schema = z.strictObject({
  port: portSchema,
  /** Written once connected (e.g. "PING\r\n"); escapes such as \r\n are TOML's. */
  send: z.string().min(1).optional(),
  /** The reply must contain this (or match /regex/) before the timeout. */
  expect: matcherSchema.optional(),
});
type TcpConfig = z.infer<typeof schema>;

/** TCP: connect time to target:port, then optionally a send/expect exchange. */
export const tcp: CheckPlugin<TcpConfig> = {
  type: "tcp",
  schema,
  targetProblem: hostProblem,
  tracesOnFailure: true,
  label: (common, cfg) => hostPort(common.target, cfg.port),
  create: (common, cfg) => {
    const matcher = cfg.expect === undefined ? undefined : compileMatcher(cfg.expect);
    return { probe: (ctx) => new Promise((resolve) => new TcpProbe(common.target, cfg, matcher, ctx, resolve).start()) };
  },
};

/** A tcp or udp target is a bare host name or IP address; the port has its own field. */
export function hostProblem(common: { target: string }): string | undefined {
  const t = common.target;
  if (net.isIP(t) || /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(t)) return undefined;
  return `"${t}" is not a host name or IP address (give the port in \`port\`, without a scheme or brackets)`;
}

/** `host:port`, IPv6 in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * One connect, and the exchange after it if the check has one. An object with methods
 * rather than a closure per step: a thousand probes a round made those closures a good
 * part of the agent's garbage. It is the abort signal's listener itself (handleEvent).
 */
class TcpProbe {
  private readonly started = performance.now();
  private lookedUpAt = this.started;
  private connectedAt = 0;
  private received = "";
  private done = false;
  private socket: net.Socket | undefined;

  constructor(
    private readonly host: string,
    private readonly cfg: TcpConfig,
    private readonly matcher: TextMatcher | undefined,
    private readonly ctx: ProbeContext,
    private readonly resolve: (result: CheckResult) => void,
  ) {}

  start(): void {
    const socket = net.connect({ host: this.host, port: this.cfg.port });
    this.socket = socket;
    if (this.ctx.signal.aborted) return this.handleEvent();
    this.ctx.signal.addEventListener("abort", this, { once: true });
    // The connect time leaves out name resolution, as blackbox_exporter's does (an IP
    // address is not looked up: no lookup event then).
    if (!net.isIP(this.host)) socket.once("lookup", () => { this.lookedUpAt = performance.now(); });
    socket.on("error", (err) => this.finish({ up: false, figures: {}, reason: reasonOf(err, `connect to ${this.where()}`) }));
    socket.on("connect", () => this.connected());
  }

  /** The probe's signal aborted: its bound is past. */
  handleEvent(): void {
    const { cfg, ctx } = this;
    if (!this.connectedAt) return this.finish(down("timeout", `connect to ${this.where()}: no answer within ${ctx.timeoutMs} ms`));
    const got = this.received ? `got ${JSON.stringify(this.received.slice(0, 80))}` : "got nothing";
    this.finish(down("expect", `${this.where()}: expected ${describePattern(cfg.expect ?? "")} within ${ctx.timeoutMs} ms, ${got}`, { rtt_ms: ms(this.lookedUpAt, this.connectedAt) }));
  }

  private connected(): void {
    const { cfg } = this;
    const socket = this.socket!;
    this.connectedAt = performance.now();
    const rtt = ms(this.lookedUpAt, this.connectedAt);
    const matcher = this.matcher;
    if (!matcher) {
      if (!cfg.send) return this.finish(up({ rtt_ms: rtt }));
      return void socket.end(cfg.send, () => this.finish(up({ rtt_ms: rtt })));
    }
    if (cfg.send) socket.write(cfg.send);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      // Bounded: a peer that streams forever cannot grow the agent's memory.
      this.received = (this.received + chunk).slice(-64 * 1024);
      if (matcher(this.received)) this.finish(up({ rtt_ms: rtt }));
    });
    socket.once("end", () => this.finish(down("expect", `${this.where()} closed the connection before sending ${describePattern(cfg.expect ?? "")}`, { rtt_ms: rtt })));
  }

  private where(): string {
    return hostPort(this.host, this.cfg.port);
  }

  private finish(result: CheckResult): void {
    if (this.done) return;
    this.done = true;
    this.ctx.signal.removeEventListener("abort", this);
    this.socket!.destroy();
    this.resolve(result);
  }
}
