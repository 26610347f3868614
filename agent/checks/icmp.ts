import { lookup } from "node:dns/promises";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import type { Logger } from "../log.ts";
import { ms, reasonOf, type Check, type CheckPlugin, type CheckResult, type CommonCheckConfig, type ProbeContext } from "./check.ts";
import { portSchema } from "./fields.ts";
import { roundResult, runRound, type Attempt } from "./icmp-round.ts";
import { sharedIcmpSocket, type EchoOutcome, type IcmpSocket, type IcmpUnavailable } from "./icmp-socket.ts";
import { hostPort, hostProblem } from "./tcp.ts";

const schema = z.strictObject({
  /** Echo requests per round. */
  count: z.number().int().min(1).max(1000).default(5),
  /** Between two requests of a round. */
  probe_interval_ms: z.number().int().min(10).max(60_000).default(200),
  /** The TCP port timed instead when raw ICMP is not allowed (an answer of either SYN-ACK or RST counts). */
  port: portSchema.default(80),
});
export type IcmpConfig = z.infer<typeof schema>;

/** How the check reaches its socket; tests hand in one that is unavailable to force the fallback. */
export type IcmpSocketSource = () => IcmpSocket | IcmpUnavailable;

/** icmp: `count` echo requests per round; loss and min/avg/max/mdev of the round-trip times. */
export const icmp: CheckPlugin<IcmpConfig> = {
  type: "icmp",
  schema,
  targetProblem: (common) => (net.isIPv6(common.target) ? `"${common.target}" is IPv6; the icmp check speaks IPv4 only so far` : hostProblem(common)),
  configProblem: (common, cfg) => {
    // The last request needs time for its answer before the round's timeout.
    const sending = (cfg.count - 1) * cfg.probe_interval_ms;
    return sending < common.timeout_ms ? undefined
      : { field: "count", message: `${cfg.count} requests ${cfg.probe_interval_ms} ms apart take ${sending} ms, not less than timeout_ms (${common.timeout_ms}); lower count or probe_interval_ms, or raise timeout_ms` };
  },
  tracesOnFailure: true,
  label: (common) => common.target,
  create: (common, cfg) => createIcmpCheck(common, cfg, sharedIcmpSocket),
};

/** The icmp check over a given socket source: raw echo when it has a socket, TCP-connect timing (labelled method="tcp") when not. */
export function createIcmpCheck(common: CommonCheckConfig, cfg: IcmpConfig, socketSource: IcmpSocketSource): Check {
  return {
    async probe(ctx: ProbeContext): Promise<CheckResult> {
      let address: string;
      try {
        address = net.isIPv4(common.target) ? common.target : (await lookup(common.target, { family: 4 })).address;
      } catch (err) {
        return { up: false, figures: {}, reason: reasonOf(err, `resolve ${common.target}`) };
      }
      const socket = socketSource();
      if ("unavailable" in socket) {
        const where = hostPort(address, cfg.port);
        const attempts = await runRound(cfg.count, cfg.probe_interval_ms, ctx, (signal, done) => tcpAttempt(address, cfg.port, signal, done));
        return { ...roundResult(attempts, `tcp ${where}`), labels: TCP_METHOD };
      }
      // No timer per request: the probe's signal is aborted once timeoutMs is past (ProbeContext).
      const attempts = await runRound(cfg.count, cfg.probe_interval_ms, ctx, (signal, done) => socket.request(address, { signal }, (outcome) => done(attemptOf(outcome, ctx.timeoutMs))));
      return roundResult(attempts, `ping ${address}`);
    },
  };
}

const TCP_METHOD = Object.freeze({ method: "tcp" });

function attemptOf(outcome: EchoOutcome, timeoutMs: number): Attempt {
  switch (outcome.kind) {
    case "reply": return { rttMs: outcome.rttMs };
    case "timeout": return { lost: { code: "timeout", message: `no echo reply within ${timeoutMs} ms` } };
    case "error": return { lost: { code: /unreachable/i.test(outcome.message) ? "unreachable" : "error", message: outcome.message } };
    default: return { lost: { code: "unreachable", message: `${outcome.from} answered ${outcome.kind} (code ${outcome.code})` } };
  }
}

/** One TCP connect, timed to its answer: a refusal (RST) is an answer too, it shows the host is there. */
function tcpAttempt(address: string, port: number, signal: AbortSignal, resolve: (attempt: Attempt) => void): void {
  const started = performance.now();
  const socket = net.connect({ host: address, port });
  let answered = false;
  const finish = (attempt: Attempt) => {
    if (answered) return;
    answered = true;
    signal.removeEventListener("abort", onAbort);
    socket.destroy();
    resolve(attempt);
  };
  const onAbort = () => finish({ lost: { code: "timeout", message: `connect to ${hostPort(address, port)}: no answer in time` } });
  if (signal.aborted) return onAbort();
  signal.addEventListener("abort", onAbort, { once: true });
  socket.once("connect", () => finish({ rttMs: ms(started, performance.now()) }));
  socket.once("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "ECONNREFUSED") return finish({ rttMs: ms(started, performance.now()) });
    finish({ lost: reasonOf(err, `connect to ${hostPort(address, port)}`) });
  });
}

let fallbackNoted = false;

/** Says once per process, at start-up, that icmp checks time TCP connects instead of pinging, and how to fix it. */
export function noteIcmpFallback(definitions: readonly CommonCheckConfig[], log: Logger, socketSource: IcmpSocketSource = sharedIcmpSocket): void {
  if (fallbackNoted || !definitions.some((d) => d.type === "icmp")) return;
  const socket = socketSource();
  if (!("unavailable" in socket)) return;
  fallbackNoted = true;
  log.warn({ checks: definitions.filter((d) => d.type === "icmp").map((d) => d.name) },
    `icmp checks fall back to timing TCP connects (their samples carry method="tcp"): ${socket.unavailable}`);
}
