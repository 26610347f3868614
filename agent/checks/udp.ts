import dgram from "node:dgram";
import { lookup } from "node:dns/promises";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { down, ms, reasonOf, up, type CheckPlugin, type CheckResult, type ProbeContext } from "./check.ts";
import { compileMatcher, describePattern } from "./expect.ts";
import { matcherSchema, portSchema } from "./fields.ts";
import { hostPort, hostProblem } from "./tcp.ts";

const schema = z.strictObject({
  port: portSchema,
  /** The datagram sent; UDP has no handshake, so only a reply shows the service is there. */
  send: z.string().min(1),
  /** The reply must contain this (or match /regex/); any reply will do without it. */
  expect: matcherSchema.optional(),
});
type UdpConfig = z.infer<typeof schema>;

/** UDP: one datagram out, one reply back; the reply time is the rtt. */
export const udp: CheckPlugin<UdpConfig> = {
  type: "udp",
  schema,
  targetProblem: hostProblem,
  label: (common, cfg) => hostPort(common.target, cfg.port),
  create: (common, cfg) => ({ probe: (ctx) => probeUdp(common.target, cfg, ctx) }),
};

async function probeUdp(host: string, cfg: UdpConfig, ctx: ProbeContext): Promise<CheckResult> {
  const where = hostPort(host, cfg.port);
  let address: string, family: number;
  try {
    ({ address, family } = net.isIP(host) ? { address: host, family: net.isIP(host) } : await lookup(host));
  } catch (err) {
    return { up: false, figures: {}, reason: reasonOf(err, `resolve ${host}`) };
  }
  const matcher = cfg.expect === undefined ? undefined : compileMatcher(cfg.expect);
  return new Promise((resolve) => {
    const socket = dgram.createSocket(family === 6 ? "udp6" : "udp4");
    let sentAt = 0;
    let done = false;
    const finish = (result: CheckResult) => {
      if (done) return;
      done = true;
      ctx.signal.removeEventListener("abort", onAbort);
      socket.close();
      resolve(result);
    };
    const onAbort = () => finish(down("timeout", `${where}: no reply within ${ctx.timeoutMs} ms`));
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    // A connected socket is told about an ICMP port unreachable (as ECONNREFUSED): a closed
    // port then shows as down at once instead of as a timeout.
    socket.on("error", (err) => finish({ up: false, figures: {}, reason: reasonOf(err, `udp ${where}`) }));
    socket.on("message", (reply) => {
      const rtt = ms(sentAt, performance.now());
      if (!matcher || matcher(reply.toString("utf8"))) return finish(up({ rtt_ms: rtt }));
      finish(down("expect", `${where}: reply ${JSON.stringify(reply.toString("utf8").slice(0, 80))} does not match ${describePattern(cfg.expect ?? "")}`, { rtt_ms: rtt }));
    });
    socket.connect(cfg.port, address, () => {
      sentAt = performance.now();
      socket.send(cfg.send);
    });
  });
}
