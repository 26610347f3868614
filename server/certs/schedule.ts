import { TRANSIENT_ERROR_CLASSES, type CertCheckResult, type CertDomain } from "./types.ts";

export interface ScheduleSettings {
  /** `[cert_check] default_interval_secs`, for domains without their own interval. */
  defaultIntervalSecs: number;
  /** A check that failed before seeing a certificate (DNS, timeout, refused, …) is retried this soon. */
  retryFailedSecs: number;
}

/** A transient failure is retried after this long, unless the domain's interval is shorter. */
export const RETRY_FAILED_SECS = 300;

/** When a domain is next due, given its latest result (pure). */
export function nextDueMs(domain: CertDomain, last: Pick<CertCheckResult, "checked_at" | "error_class"> | undefined, settings: ScheduleSettings): number {
  if (!last) return 0;
  let intervalSecs = domain.check_interval_secs ?? settings.defaultIntervalSecs;
  if (last.error_class && TRANSIENT_ERROR_CLASSES.has(last.error_class)) intervalSecs = Math.min(intervalSecs, settings.retryFailedSecs);
  return last.checked_at + intervalSecs * 1000;
}

/**
 * The domains a scheduler tick should check now: enabled, not already being checked, and
 * never checked or past their interval. Never-checked first, then the most overdue.
 */
export function dueDomains(
  domains: readonly CertDomain[],
  lastResult: (domainId: string) => Pick<CertCheckResult, "checked_at" | "error_class"> | undefined,
  inFlight: ReadonlySet<string>,
  nowMs: number,
  settings: ScheduleSettings,
): CertDomain[] {
  const due: { domain: CertDomain; at: number }[] = [];
  for (const domain of domains) {
    if (!domain.enabled || inFlight.has(domain.id)) continue;
    const at = nextDueMs(domain, lastResult(domain.id), settings);
    if (at <= nowMs) due.push({ domain, at });
  }
  return due.sort((a, b) => a.at - b.at || a.domain.domain.localeCompare(b.domain.domain)).map((d) => d.domain);
}
