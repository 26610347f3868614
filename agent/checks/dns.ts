import { Resolver } from "node:dns/promises";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { down, ms, reasonOf, type CheckPlugin, type CheckResult, type ProbeContext } from "./check.ts";
import { compileMatcher, describePattern } from "./expect.ts";
import { matcherSchema } from "./fields.ts";

const RECORD_TYPES = ["A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "CAA"] as const;

const schema = z.strictObject({
  record_type: z.enum(RECORD_TYPES).default("A"),
  /** `ip` or `ip:port` (`[ipv6]:port`); default the system's resolvers. */
  server: z.string().refine((s) => parseServer(s) !== undefined, { message: "expected an IP address, ip:port or [ipv6]:port (a name server is given by address, not by name)" }).optional(),
  /** Some answer line must contain this (or match /regex/); any answer will do without it. */
  expect: matcherSchema.optional(),
});
type DnsConfig = z.infer<typeof schema>;

/** DNS: one query of `target` for `record_type`; the time to the answer is the rtt. */
export const dnsCheck: CheckPlugin<DnsConfig> = {
  type: "dns",
  schema,
  label: (common) => common.target,
  create: (common, cfg) => ({ probe: (ctx) => probeDns(common.target, cfg, ctx) }),
};

/** `1.1.1.1`, `127.0.0.1:5353`, `::1`, `[::1]:5353` → what Resolver.setServers takes; undefined when none of those. */
export function parseServer(server: string): string | undefined {
  if (net.isIP(server)) return server;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(server);
  if (!m) return undefined;
  const ip = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (!net.isIP(ip) || port < 1 || port > 65535) return undefined;
  return server;
}

/** One line per record, in zone-file order of fields (MX: "10 mx.example.com"). */
export function formatRecords(records: readonly unknown[]): string[] {
  return records.map((r) => {
    if (typeof r === "string") return r;
    if (Array.isArray(r)) return r.join("");
    if (r && typeof r === "object") {
      const o = r as Record<string, unknown>;
      if ("exchange" in o) return `${o.priority} ${o.exchange}`;
      if ("port" in o && "name" in o) return `${o.priority} ${o.weight} ${o.port} ${o.name}`;
      return Object.values(o).join(" ");
    }
    return String(r);
  });
}

async function probeDns(name: string, cfg: DnsConfig, ctx: ProbeContext): Promise<CheckResult> {
  // One try, bounded by the probe's own timeout: the scheduler retries at the next interval.
  const resolver = new Resolver({ timeout: ctx.timeoutMs, tries: 1 });
  if (cfg.server) resolver.setServers([parseServer(cfg.server)!]);
  const onAbort = () => resolver.cancel();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const what = `${cfg.record_type} ${name}${cfg.server ? ` @${cfg.server}` : ""}`;
  const started = performance.now();
  try {
    const records = await resolver.resolve(name, cfg.record_type) as unknown[];
    const rtt = ms(started, performance.now());
    const lines = formatRecords(records);
    const answer = lines.join("\n");
    if (cfg.expect !== undefined && !lines.some(compileMatcher(cfg.expect))) {
      return { ...down("expect", `${what}: no record matches ${describePattern(cfg.expect)} (got ${JSON.stringify(answer.slice(0, 120))})`, { rtt_ms: rtt }), detail: answer };
    }
    return { up: true, figures: { rtt_ms: rtt }, detail: answer };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ECANCELLED" || code === "ETIMEOUT") return down("timeout", `${what}: no answer within ${ctx.timeoutMs} ms`);
    if (code === "ENOTFOUND") return down("dns", `${what}: no such name (NXDOMAIN)`);
    if (code === "ENODATA") return down("expect", `${what}: the name exists but has no ${cfg.record_type} record`);
    return { up: false, figures: {}, reason: reasonOf(err, what) };
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
  }
}
