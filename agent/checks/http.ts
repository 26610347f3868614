import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { down, ms, reasonOf, up, type CheckPlugin, type CheckResult, type CommonCheckConfig, type ProbeContext } from "./check.ts";
import { compileMatcher, describePattern } from "./expect.ts";
import { matcherSchema } from "./fields.ts";
import { requestHop, type Hop } from "./http-hop.ts";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Enough for any page a body match is written against; the rest is read but not kept. */
const BODY_LIMIT = 1024 * 1024;

const status = z.number().int().min(100).max(599);
const schema = z.strictObject({
  method: z.enum(["GET", "HEAD"]).default("GET"),
  /** The final status must be one of these; default any 2xx. */
  expect_status: z.union([status, z.array(status).min(1)], { error: "expected a status code or a list of them, e.g. 200 or [200, 301]" }).optional(),
  expect_body: matcherSchema.optional(),
  /** Redirects followed; past this the 3xx itself is judged (0: never follow). */
  max_redirects: z.number().int().min(0).max(20).default(5),
  /** PEM file of a CA to trust besides the system's (a private CA). */
  ca_file: z.string().min(1).optional().superRefine((file, ctx) => {
    if (file === undefined) return;
    try { readFileSync(file); } catch (err) { ctx.addIssue({ code: "custom", message: `cannot read the CA file: ${(err as Error).message}` }); }
  }),
});
type HttpConfig = z.infer<typeof schema>;

function plugin(type: "http" | "https"): CheckPlugin<HttpConfig> {
  return {
    type,
    schema,
    targetProblem,
    label: (common) => common.target,
    create: (common, cfg) => {
      const ca = cfg.ca_file === undefined ? undefined : readFileSync(cfg.ca_file, "utf8");
      return { probe: (ctx) => probeHttp(common, cfg, ca, ctx) };
    },
  };
}

/** HTTP(S): status, total time and its phases, optional status and body expectations. */
export const httpCheck = plugin("http");
/** The same probe; its own type so `type="https"` series can be told apart (and target must be https://). */
export const httpsCheck = plugin("https");

/** The target of an http(s) check: an absolute URL of the right scheme, or what is wrong with it. */
export function targetProblem(common: Pick<CommonCheckConfig, "type" | "target">): string | undefined {
  let url: URL;
  try { url = new URL(common.target); } catch { return `"${common.target}" is not an absolute URL (write e.g. https://example.com/health)`; }
  const ok = common.type === "https" ? ["https:"] : ["http:", "https:"];
  if (!ok.includes(url.protocol)) return `expected ${ok.map((p) => p + "//").join(" or ")} for type "${common.type}", got ${url.protocol}//`;
  return undefined;
}

async function probeHttp(common: CommonCheckConfig, cfg: HttpConfig, ca: string | undefined, ctx: ProbeContext): Promise<CheckResult> {
  const started = performance.now();
  const hops: Hop[] = [];
  let url = new URL(common.target);
  for (;;) {
    let hop: Hop;
    try {
      hop = await requestHop(url, { method: cfg.method, ca, signal: ctx.signal, bodyLimit: cfg.expect_body ? BODY_LIMIT : 0 });
    } catch (err) {
      const reason = reasonOf(err, `${cfg.method} ${url.href}`);
      if (reason.code === "timeout") reason.message += ` (timeout_ms ${ctx.timeoutMs})`;
      return { up: false, figures: {}, reason };
    }
    hops.push(hop);
    if (!REDIRECTS.has(hop.status) || !hop.location || hops.length > cfg.max_redirects) break;
    url = new URL(hop.location, url);
  }
  return judgeHttp(hops, cfg, ms(started, performance.now()));
}

/** Pure: the result of a chain of hops. Phases are summed over the hops, as a user waits for all of them. */
export function judgeHttp(hops: readonly Hop[], cfg: Pick<HttpConfig, "expect_status" | "expect_body" | "max_redirects">, totalMs: number): CheckResult {
  const last = hops[hops.length - 1]!;
  const sum = (f: (h: Hop) => number) => Math.round(hops.reduce((acc, h) => acc + f(h), 0) * 100) / 100;
  const figures: CheckResult["figures"] = {
    rtt_ms: totalMs,
    http_status: last.status,
    http_dns_ms: sum((h) => h.dnsMs),
    http_connect_ms: sum((h) => h.connectMs),
    http_tls_ms: sum((h) => h.tlsMs),
    http_first_byte_ms: sum((h) => h.firstByteMs),
  };
  if (last.tlsDaysLeft !== undefined) figures.tls_days_left = last.tlsDaysLeft;
  const wanted = cfg.expect_status === undefined ? undefined : [cfg.expect_status].flat();
  const statusOk = wanted ? wanted.includes(last.status) : last.status >= 200 && last.status < 300;
  if (!statusOk) {
    const past = REDIRECTS.has(last.status) && last.location && hops.length > cfg.max_redirects
      ? ` (a redirect to ${last.location} not followed: max_redirects = ${cfg.max_redirects})` : "";
    return down("expect", `status ${last.status}, expected ${wanted ? wanted.join(" or ") : "2xx"}${past}`, figures);
  }
  if (cfg.expect_body !== undefined && !compileMatcher(cfg.expect_body)(last.body)) {
    return down("expect", `body does not contain ${describePattern(cfg.expect_body)}`, figures);
  }
  return up(figures);
}
