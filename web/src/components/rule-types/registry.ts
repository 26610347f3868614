import { jsonFieldsForm } from "./json-fields.tsx";
import { reachabilityForm } from "./reachability.tsx";
import type { RuleTypeForm } from "./rule-type.ts";
import { thresholdForm } from "./threshold.tsx";

/**
 * The editor's form of each rule type the server has (server/alerts/conditions/registry.ts).
 * Types with their own inputs have a file here; the others take their fields as JSON.
 */
export const RULE_FORMS: Record<string, RuleTypeForm> = {
  threshold: thresholdForm,
  rate_of_change: jsonFieldsForm("rate_of_change", { rate_threshold: 50, window_secs: 300 }, "required"),
  trend_prediction: jsonFieldsForm("trend_prediction", { predict_threshold: 95, horizon_secs: 86_400 }, "required"),
  cert_expiration: jsonFieldsForm("cert_expiration", { warning_days: 21, critical_days: 7 }, "optional"),
  agent_offline: jsonFieldsForm("agent_offline", { offline_secs: 120 }, "optional"),
  reachability: reachabilityForm,
};
export const RULE_TYPE_NAMES = Object.keys(RULE_FORMS);

/** The form of `type`; a type this dashboard does not know (a newer server's) is edited as JSON. */
export function ruleFormOf(type: string): RuleTypeForm {
  // Kept, so its Fields component stays the same one between renders.
  return (RULE_FORMS[type] ??= jsonFieldsForm(type, {}, "required"));
}
