import type { z } from "zod";

/*
 * The shape every reachability check shares. A check type is one file exporting a
 * `CheckPlugin` (its table schema and a factory), registered by name in registry.ts.
 * Every type fits the same result: figures plus, when down, why.
 */

/** Why a probe found its target down; `code` is stable (alerts and a later API key on it), `message` is for people. */
export interface DownReason {
  code: DownCode;
  message: string;
}

/**
 * refused: the peer said no (TCP RST, ICMP port unreachable); unreachable: no route to the
 * host or network; timeout: no answer within
 * timeout_ms; dns: the target's name did not resolve; tls: the handshake or certificate
 * failed; expect: an answer came but not the expected one (bytes, status, body, record);
 * error: anything else, including a check that threw.
 */
export type DownCode = "refused" | "unreachable" | "timeout" | "dns" | "tls" | "expect" | "error";

/** One probe's outcome. Figures are named by their metric suffix (`rtt_ms` → `check.rtt_ms`). */
export interface CheckResult {
  up: boolean;
  figures: Partial<Record<CheckFigure, number>>;
  reason?: DownReason;
  /** What was seen, for people (a DNS answer); never a metric. */
  detail?: string;
  /** Labels added to this result's samples, e.g. `method="tcp"` when icmp could not ping. */
  labels?: Readonly<Record<string, string>>;
}

/** Every figure a check may report, each one metric `check.<figure>`. */
export const CHECK_FIGURES = [
  "rtt_ms", "rtt_min_ms", "rtt_max_ms", "jitter_ms", "loss_percent", "http_status", "tls_days_left", "http_dns_ms", "http_connect_ms", "http_tls_ms", "http_first_byte_ms",
] as const;
export type CheckFigure = (typeof CHECK_FIGURES)[number];

/** What every probe gets: its bound, and a signal the scheduler aborts when the bound is past. */
export interface ProbeContext {
  timeoutMs: number;
  signal: AbortSignal;
}

/** A configured check, ready to probe. */
export interface Check {
  probe(ctx: ProbeContext): Promise<CheckResult>;
}

/** The fields every `[[checks]]` table has; the plugin's schema validates the rest. */
export interface CommonCheckConfig {
  name: string;
  type: string;
  target: string;
  interval_secs: number;
  timeout_ms: number;
  /** Trace the path to the target when the check goes from up to down. */
  traceroute_on_failure: boolean;
}

/** A check type: the schema of its own fields, the `target` label it reports, and how to build it. */
export interface CheckPlugin<C> {
  type: string;
  schema: z.ZodType<C>;
  /** What is wrong with `target` for this type, if anything (checked with the schema). */
  targetProblem?(common: CommonCheckConfig): string | undefined;
  /** What is wrong with the fields taken together (e.g. more probes than the timeout holds), if anything. */
  configProblem?(common: CommonCheckConfig, config: C): { field: string; message: string } | undefined;
  /** `traceroute_on_failure` when the table does not say (default false): true where the path is the likely culprit. */
  tracesOnFailure?: boolean;
  /** The `target` label: what is probed, e.g. `db:5432` or the URL. */
  label(common: CommonCheckConfig, config: C): string;
  create(common: CommonCheckConfig, config: C): Check;
}

export function up(figures: CheckResult["figures"]): CheckResult {
  return { up: true, figures };
}

export function down(code: DownCode, message: string, figures: CheckResult["figures"] = {}): CheckResult {
  return { up: false, figures, reason: { code, message } };
}

/** Maps a socket or resolver error to a reason; `what` says which step failed ("connect to db:5432"). */
export function reasonOf(err: unknown, what: string): DownReason {
  const e = err as NodeJS.ErrnoException;
  const detail = e?.message ?? String(err);
  switch (e?.code) {
    case "ECONNREFUSED": case "ECONNRESET":
      return { code: "refused", message: `${what}: ${detail}` };
    case "EHOSTUNREACH": case "ENETUNREACH":
      return { code: "unreachable", message: `${what}: ${detail}` };
    case "ETIMEDOUT": case "ABORT_ERR": case "ETIMEOUT":
      return { code: "timeout", message: `${what}: no answer in time` };
    case "ENOTFOUND": case "EAI_AGAIN": case "ENODATA": case "ESERVFAIL":
      return { code: "dns", message: `${what}: name did not resolve (${detail})` };
    default:
      if (typeof e?.code === "string" && /^(ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|ERR_SSL)/.test(e.code)) {
        return { code: "tls", message: `${what}: ${detail}` };
      }
      return { code: "error", message: `${what}: ${detail}` };
  }
}

/** Milliseconds between two performance.now() readings, to 0.01 ms. */
export function ms(from: number, to: number): number {
  return Math.round((to - from) * 100) / 100;
}
