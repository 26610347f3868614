import type { LatestValue } from "../actors/protocol/messages.ts";

const RESERVED = new Set(["agent_id", "name"]);

/**
 * The latest value of every agent series as one Prometheus gauge family,
 * `tsmon_metric{agent_id, name, ...labels}`, so an existing Prometheus can scrape the
 * whole fleet through tsmon. Label keys are made valid; keys that collide with
 * agent_id or name get a `label_` prefix.
 */
export function fleetExposition(agents: Iterable<{ agentId: string; values: readonly LatestValue[] }>): string {
  const lines = [
    "# HELP tsmon_metric Latest value of every series reported by every agent.",
    "# TYPE tsmon_metric gauge",
  ];
  for (const { agentId, values } of agents) {
    for (const v of values) {
      let labels = `agent_id="${escapeValue(agentId)}",name="${escapeValue(v.metric)}"`;
      for (const [k, val] of Object.entries(v.labels)) {
        const key = labelName(k);
        labels += `,${RESERVED.has(key) ? "label_" + key : key}="${escapeValue(val)}"`;
      }
      lines.push(`tsmon_metric{${labels}} ${formatValue(v.value)}`);
    }
  }
  return lines.join("\n") + "\n";
}

function labelName(key: string): string {
  const clean = key.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[a-zA-Z_]/.test(clean) && !clean.startsWith("__") ? clean : "l_" + clean.replace(/^_+/, "");
}

function escapeValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
