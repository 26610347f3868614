import { useState } from "preact/hooks";
import { api } from "../lib/api.ts";
import { when } from "../lib/format.ts";
import { globToRegExp } from "../../../common/glob.ts";
import { BacktestChart, type BacktestEpisode } from "./backtest-chart.tsx";
import { OutcomeNote, useWrite } from "./ui.tsx";

export interface Rule {
  id: string; name: string; type: string; metric: string; agent_pattern: string; labels: Record<string, string>;
  severity: string; silence_secs: number; enabled: boolean; source: string; read_only: boolean; [field: string]: unknown;
}
interface Backtest { agents: number; episodes: BacktestEpisode[] }
/** What the preview ran: the rule's fields the chart needs, and the range. */
interface Previewed { result: Backtest; metric: string; threshold: number | undefined; fallbackAgent: string | undefined; fromMs: number; toMs: number }

const TYPES = ["threshold", "rate_of_change", "trend_prediction", "cert_expiration", "agent_offline"];
const OPERATORS = [["gt", ">"], ["gte", "≥"], ["lt", "<"], ["lte", "≤"]];
const COMMON = new Set(["id", "name", "type", "metric", "agent_pattern", "labels", "severity", "silence_secs", "enabled", "source", "read_only", "operator", "value", "duration_secs"]);

/** The rule as the API takes it, from the form (threshold fields, or the JSON of another type's fields). */
function ruleFrom(form: HTMLFormElement): Record<string, unknown> {
  const f = new FormData(form);
  const type = String(f.get("type"));
  const rule: Record<string, unknown> = {
    name: String(f.get("name")).trim(), type, metric: String(f.get("metric")).trim(), agent_pattern: String(f.get("agent_pattern")).trim() || "*",
    severity: String(f.get("severity")), silence_secs: Number(f.get("silence_secs") || 0), enabled: f.get("enabled") === "on",
  };
  if (type === "threshold") {
    rule.operator = String(f.get("operator"));
    rule.value = Number(f.get("value"));
    rule.duration_secs = Number(f.get("duration_secs") || 0);
  }
  const extra = String(f.get("extra") ?? "").trim();
  if (extra) Object.assign(rule, JSON.parse(extra) as Record<string, unknown>);
  return rule;
}

/** Create or edit a rule; "Preview" runs the backtest over the last 7 days without saving. */
export function RuleEditor({ rule, onDone }: { rule: Rule | null; onDone: (saved: boolean) => void }) {
  const [type, setType] = useState(rule?.type ?? "threshold");
  const [outcome, write] = useWrite();
  const [preview, setPreview] = useState<Previewed | null>(null);
  const extraFields = rule ? Object.fromEntries(Object.entries(rule).filter(([k]) => !COMMON.has(k))) : {};
  const save = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const ok = await write(rule ? "Rule saved." : "Rule created.", async () => {
      const body = ruleFrom(form);
      await api(rule ? `/v1/alerts/rules/${encodeURIComponent(rule.id)}` : "/v1/alerts/rules", { method: rule ? "PUT" : "POST", body });
    });
    if (ok) onDone(true);
  };
  const runPreview = (e: Event) => {
    const form = (e.currentTarget as HTMLButtonElement).form!;
    const to = Date.now();
    const from = to - 7 * 86_400_000;
    void write("Preview: the rule run over the last 7 days.", async () => {
      const body = ruleFrom(form);
      const [result, agents] = await Promise.all([
        api<Backtest>("/v1/alerts/rules/test", { method: "POST", body: { rule: body, from, to } }),
        api<{ agent_id: string }[]>("/v1/agents"),
      ]);
      const pattern = globToRegExp(String(body.agent_pattern));
      setPreview({
        result, metric: String(body.metric), threshold: typeof body.value === "number" ? body.value : undefined,
        fallbackAgent: agents.map((a) => a.agent_id).find((id) => pattern.test(id)), fromMs: from, toMs: to,
      });
    });
  };
  return (
    <form class="panel editor" onSubmit={save} aria-label={rule ? `Edit rule ${rule.name}` : "New rule"}>
      <h3>{rule ? `Edit “${rule.name}”` : "New rule"}</h3>
      <div class="form-grid">
        <label>Name<input name="name" required defaultValue={rule?.name ?? ""} /></label>
        <label>Type<select name="type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>{TYPES.map((t) => <option value={t}>{t}</option>)}</select></label>
        <label>Metric<input name="metric" required={type !== "agent_offline"} defaultValue={rule?.metric ?? "cpu.usage"} /></label>
        <label>Agents (glob)<input name="agent_pattern" defaultValue={rule?.agent_pattern ?? "*"} /></label>
        {type === "threshold" && <>
          <label>Operator<select name="operator">{OPERATORS.map(([v, t]) => <option value={v} selected={v === String(rule?.operator ?? "gt")}>{t} ({v})</option>)}</select></label>
          <label>Threshold<input name="value" type="number" step="any" required defaultValue={rule?.value === undefined ? "90" : String(rule.value)} /></label>
          <label>For (seconds)<input name="duration_secs" type="number" min="0" defaultValue={String(rule?.duration_secs ?? 60)} /></label>
        </>}
        <label>Severity<select name="severity">{["info", "warning", "critical"].map((v) => <option selected={v === (rule?.severity ?? "warning")}>{v}</option>)}</select></label>
        <label>Silence (seconds)<input name="silence_secs" type="number" min="0" defaultValue={String(rule?.silence_secs ?? 0)} /></label>
        <label class="check"><span>Enabled</span><input name="enabled" type="checkbox" defaultChecked={rule?.enabled ?? true} /></label>
      </div>
      {type !== "threshold" && (
        <label class="wide">Fields of {type} (JSON)<textarea name="extra" rows={3} defaultValue={JSON.stringify(extraFields)} placeholder='{"rate_threshold": 50, "window_secs": 300}' /></label>
      )}
      <OutcomeNote outcome={outcome} />
      {preview && (
        <div class="preview" role="status">
          <p>Would have fired <strong>{preview.result.episodes.length}</strong> {preview.result.episodes.length === 1 ? "time" : "times"} in the last 7 days on {preview.result.agents} {preview.result.agents === 1 ? "agent" : "agents"}.</p>
          {preview.result.episodes.length > 0 && <ul>{preview.result.episodes.slice(0, 10).map((ep) => <li>{ep.agent_id}: {when(ep.fired_at)} → {ep.resolved_at ? when(ep.resolved_at) : "still firing"} ({ep.message})</li>)}</ul>}
          {preview.metric && <BacktestChart metric={preview.metric} threshold={preview.threshold} episodes={preview.result.episodes} fallbackAgent={preview.fallbackAgent} fromMs={preview.fromMs} toMs={preview.toMs} />}
        </div>
      )}
      <div class="form-actions">
        <button type="submit" class="write">{rule ? "Save rule" : "Create rule"}</button>
        <button type="button" class="secondary write" onClick={runPreview}>Preview</button>
        <button type="button" class="link" onClick={() => onDone(false)}>Cancel</button>
      </div>
    </form>
  );
}
