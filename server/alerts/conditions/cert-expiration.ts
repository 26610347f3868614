import { z } from "zod";
import type { RuleOf } from "../rule-fields.ts";
import type { Sample, Target } from "../types.ts";
import type { SeriesCondition } from "./condition.ts";
import { fmt } from "./threshold.ts";

const fields = {
  metric: z.string().default("certificate.days_until_expiry"),
  warning_days: z.number().min(0),
  critical_days: z.number().min(0),
};
export type CertExpirationRule = RuleOf<"cert_expiration", typeof fields>;

/** Tiered: ≤ critical_days is critical, ≤ warning_days is warning, otherwise no alert. */
export function evalCertExpiration(rule: CertExpirationRule, s: Sample): Target {
  const tier = s.value <= rule.critical_days ? "critical" : s.value <= rule.warning_days ? "warning" : null;
  const threshold = tier === "critical" ? rule.critical_days : rule.warning_days;
  if (!tier) {
    return { state: "inactive", severity: rule.severity, ts: s.ts, value: s.value, threshold, message: `certificate valid for ${fmt(s.value)} more days` };
  }
  return {
    state: "firing", severity: tier, ts: s.ts, value: s.value, threshold,
    message: s.value <= 0 ? "certificate has expired" : `certificate expires in ${fmt(s.value)} days (${tier} at ≤ ${fmt(threshold)})`,
  };
}

export const certExpiration = {
  watches: "series",
  fields,
  check: (rule) => rule.critical_days > rule.warning_days ? [{ field: "critical_days", message: "critical_days must not exceed warning_days" }] : [],
  windowMs: () => 0,
  historyMs: () => 0,
  initial: () => undefined,
  step: (rule, state, window) => ({ state, target: evalCertExpiration(rule, window.at(-1)!) }),
} as const satisfies SeriesCondition<CertExpirationRule, undefined>;
