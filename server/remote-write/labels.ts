import type { Labels } from "../../common/metrics.ts";

/** How tsmon series become Prometheus series (docs/remote-write.md, "Names and labels"). */
export interface LabelRules {
  /** The label that carries the agent id. */
  instanceLabel: string;
  /** Also keep the agent id as `agent_id`. */
  agentIdLabel: boolean;
  metricPrefix: string;
  externalLabels: Readonly<Record<string, string>>;
}

/** A Prometheus label pair; a series' pairs are sorted by name, `__name__` first. */
export interface PromLabel { name: string; value: string }

/** `cpu.usage` → `cpu_usage`: anything outside [a-zA-Z0-9_:] becomes `_`, and a leading digit gets a `_` before it. */
export function metricName(metric: string, prefix = ""): string {
  const clean = (prefix + metric).replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[0-9]/.test(clean) ? "_" + clean : clean;
}

/** A sample label key as a Prometheus label name: invalid characters become `_`; a leading
 *  digit or a `__` (reserved by Prometheus) gets the prefix `label_`. */
export function labelName(key: string): string {
  const clean = key.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[0-9]/.test(clean) || clean.startsWith("__") || clean === "" ? "label_" + clean : clean;
}

/**
 * The label set of one tsmon series: `__name__`, the agent id under `instanceLabel` (and
 * `agent_id`), the sample's labels, then external labels where the series has none of that
 * name. A sample label that would overwrite the name or the agent id is kept as `label_<key>`.
 */
export function seriesLabels(agentId: string, metric: string, labels: Labels, rules: LabelRules): PromLabel[] {
  const out = new Map<string, string>([["__name__", metricName(metric, rules.metricPrefix)], [rules.instanceLabel, agentId]]);
  if (rules.agentIdLabel) out.set("agent_id", agentId);
  const reserved = new Set(out.keys());
  for (const [key, value] of Object.entries(labels)) {
    let name = labelName(key);
    while (reserved.has(name)) name = "label_" + name;
    out.set(name, value);
  }
  for (const [name, value] of Object.entries(rules.externalLabels)) if (!out.has(name)) out.set(name, value);
  return [...out].map(([name, value]) => ({ name, value })).sort(byName);
}

function byName(a: PromLabel, b: PromLabel): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
