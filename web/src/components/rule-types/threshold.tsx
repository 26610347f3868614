import type { Rule, RuleTypeForm } from "./rule-type.ts";

const OPERATORS = [["gt", ">"], ["gte", "≥"], ["lt", "<"], ["lte", "≤"]];

function Fields({ rule }: { rule: Rule | null }) {
  return (
    <>
      <label>Operator<select name="operator">{OPERATORS.map(([v, t]) => <option value={v} selected={v === String(rule?.operator ?? "gt")}>{t} ({v})</option>)}</select></label>
      <label>Threshold<input name="value" type="number" step="any" required defaultValue={rule?.value === undefined ? "90" : String(rule.value)} /></label>
      <label>For (seconds)<input name="duration_secs" type="number" min="0" defaultValue={String(rule?.duration_secs ?? 60)} /></label>
    </>
  );
}

/** metric OPERATOR value, held for duration_secs. */
export const thresholdForm: RuleTypeForm = {
  Fields,
  metric: "required",
  read: (f) => ({ operator: String(f.get("operator")), value: Number(f.get("value")), duration_secs: Number(f.get("duration_secs") || 0) }),
  summary: (r) => `${r.metric} ${String(r.operator)} ${String(r.value)}${Number(r.duration_secs) ? ` for ${String(r.duration_secs)} s` : ""}`,
};
