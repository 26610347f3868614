import type { AlertRule, Sample, Target } from "../types.ts";
import { fmt } from "./threshold.ts";

type CertRule = Extract<AlertRule, { type: "cert_expiration" }>;

/** Tiered: ≤ critical_days is critical, ≤ warning_days is warning, otherwise no alert. */
export function evalCertExpiration(rule: CertRule, s: Sample): Target {
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
