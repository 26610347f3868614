import net from "node:net";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { down, ms, reasonOf, up, type CheckPlugin, type CheckResult, type ProbeContext } from "./check.ts";
import { compileMatcher, describePattern } from "./expect.ts";
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
  create: (common, cfg) => ({ probe: (ctx) => probeTcp(common.target, cfg, ctx) }),
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

function probeTcp(host: string, cfg: TcpConfig, ctx: ProbeContext): Promise<CheckResult> {
  const where = hostPort(host, cfg.port);
  const matcher = cfg.expect === undefined ? undefined : compileMatcher(cfg.expect);
  return new Promise((resolve) => {
    const started = performance.now();
    let connectedAt = 0;
    let lookedUpAt = started;
    let received = "";
    const socket = net.connect({ host, port: cfg.port });
    let done = false;
    const finish = (result: CheckResult) => {
      if (done) return;
      done = true;
      ctx.signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => {
      if (!connectedAt) return finish(down("timeout", `connect to ${where}: no answer within ${ctx.timeoutMs} ms`));
      const got = received ? `got ${JSON.stringify(received.slice(0, 80))}` : "got nothing";
      finish(down("expect", `${where}: expected ${describePattern(cfg.expect ?? "")} within ${ctx.timeoutMs} ms, ${got}`, { rtt_ms: ms(lookedUpAt, connectedAt) }));
    };
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    // The connect time leaves out name resolution, as blackbox_exporter's does.
    socket.once("lookup", () => { lookedUpAt = performance.now(); });
    socket.on("error", (err) => finish({ up: false, figures: {}, reason: reasonOf(err, `connect to ${where}`) }));
    socket.once("connect", () => {
      connectedAt = performance.now();
      const rtt = ms(lookedUpAt, connectedAt);
      if (!matcher) {
        if (!cfg.send) return finish(up({ rtt_ms: rtt }));
        return void socket.end(cfg.send, () => finish(up({ rtt_ms: rtt })));
      }
      if (cfg.send) socket.write(cfg.send);
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => {
        // Bounded: a peer that streams forever cannot grow the agent's memory.
        received = (received + chunk).slice(-64 * 1024);
        if (matcher(received)) finish(up({ rtt_ms: rtt }));
      });
      socket.once("end", () => finish(down("expect", `${where} closed the connection before sending ${describePattern(cfg.expect ?? "")}`, { rtt_ms: rtt })));
    });
  });
}
