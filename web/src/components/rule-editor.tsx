import { useState } from "preact/hooks";
import { api } from "../lib/api.ts";
import { when } from "../lib/format.ts";
import { globToRegExp } from "../../../common/glob.ts";
import { BacktestChart, type BacktestEpisode } from "./backtest-chart.tsx";
import { RULE_TYPE_NAMES, ruleFormOf } from "./rule-types/registry.ts";
import type { Rule, RuleTypeForm } from "./rule-types/rule-type.ts";
import { OutcomeNote, useWrite } from "./ui.tsx";

interface Backtest { agents: number; episodes: BacktestEpisode[] }
/** What the preview ran: the rule's fields the chart needs, and the range. */
interface Previewed { result: Backtest; metric: string | undefined; threshold: number | undefined; fallbackAgent: string | undefined; fromMs: number; toMs: number }

/** The rule as the API takes it: the common fields, then the type's own from its form. */
function ruleFrom(form: HTMLFormElement, typeForm: RuleTypeForm, editing: Rule | null): Record<string, unknown> {
  const f = new FormData(form);
  const rule: Record<string, unknown> = {
    name: String(f.get("name")).trim(), type: String(f.get("type")), agent_pattern: String(f.get("agent_pattern")).trim() || "*",
    severity: String(f.get("severity")), silence_secs: Number(f.get("silence_secs") || 0), enabled: f.get("enabled") === "on",
  };
  // The form has no input for labels: an edited rule keeps its own.
  if (editing?.labels && Object.keys(editing.labels).length) rule.labels = editing.labels;
  const metric = String(f.get("metric") ?? "").trim();
  if (typeForm.metric !== "fixed" && metric) rule.metric = metric;
  return { ...rule, ...typeForm.read(f) };
}

/** The rule from the form once its type finds nothing wrong; throws the problems otherwise (nothing is sent). */
async function checkedRule(form: HTMLFormElement, typeForm: RuleTypeForm, editing: Rule | null): Promise<Record<string, unknown>> {
  const rule = ruleFrom(form, typeForm, editing);
  const problems = (await typeForm.problems?.(rule)) ?? [];
  if (problems.length) throw new Error(problems.join(" "));
  return rule;
}

/** Create or edit a rule; "Preview" runs the backtest over the last 7 days without saving. */
export function RuleEditor({ rule, onDone }: { rule: Rule | null; onDone: (saved: boolean) => void }) {
  const [type, setType] = useState(rule?.type ?? "threshold");
  const [outcome, write] = useWrite();
  const [preview, setPreview] = useState<Previewed | null>(null);
  const typeForm = ruleFormOf(type);
  const save = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const ok = await write(rule ? "Rule saved." : "Rule created.", async () => {
      const body = await checkedRule(form, typeForm, rule);
      await api(rule ? `/v1/alerts/rules/${encodeURIComponent(rule.id)}` : "/v1/alerts/rules", { method: rule ? "PUT" : "POST", body });
    });
    if (ok) onDone(true);
  };
  const runPreview = (e: Event) => {
    const form = (e.currentTarget as HTMLButtonElement).form!;
    const to = Date.now();
    const from = to - 7 * 86_400_000;
    void write("Preview: the rule run over the last 7 days.", async () => {
      const body = await checkedRule(form, typeForm, rule);
      const [result, agents] = await Promise.all([
        api<Backtest>("/v1/alerts/rules/test", { method: "POST", body: { rule: body, from, to } }),
        api<{ agent_id: string }[]>("/v1/agents"),
      ]);
      const pattern = globToRegExp(String(body.agent_pattern));
      setPreview({
        result, metric: typeof body.metric === "string" ? body.metric : undefined, threshold: typeof body.value === "number" ? body.value : undefined,
        fallbackAgent: agents.map((a) => a.agent_id).find((id) => pattern.test(id)), fromMs: from, toMs: to,
      });
    });
  };
  const chooseType = (next: string) => {
    setType(next);
    // A preview of the other type says nothing about this one.
    setPreview(null);
  };
  return (
    <form class="panel editor" onSubmit={save} aria-label={rule ? `Edit rule ${rule.name}` : "New rule"}>
      <h3>{rule ? `Edit “${rule.name}”` : "New rule"}</h3>
      <div class="form-grid">
        <label>Name<input name="name" required defaultValue={rule?.name ?? ""} /></label>
        <label>Type<select name="type" value={type} onChange={(e) => chooseType((e.target as HTMLSelectElement).value)}>{RULE_TYPE_NAMES.map((t) => <option value={t}>{t}</option>)}</select></label>
        {typeForm.metric !== "fixed" && (
          <label>Metric<input key={typeForm.metric} name="metric" required={typeForm.metric === "required"} placeholder={typeForm.metric === "optional" ? "the type's default" : undefined}
            defaultValue={rule?.metric ?? (typeForm.metric === "required" ? "cpu.usage" : "")} /></label>
        )}
        <label>Agents (glob)<input name="agent_pattern" defaultValue={rule?.agent_pattern ?? "*"} /></label>
        <typeForm.Fields rule={rule?.type === type ? rule : null} />
        <label>Severity<select name="severity">{["info", "warning", "critical"].map((v) => <option selected={v === (rule?.severity ?? "warning")}>{v}</option>)}</select></label>
        <label>Silence (seconds)<input name="silence_secs" type="number" min="0" defaultValue={String(rule?.silence_secs ?? 0)} /></label>
        <label class="check"><span>Enabled</span><input name="enabled" type="checkbox" defaultChecked={rule?.enabled ?? true} /></label>
      </div>
      <OutcomeNote outcome={outcome} />
      {preview && (
        <div class="preview" role="status">
          <p>Would have fired <strong>{preview.result.episodes.length}</strong> {preview.result.episodes.length === 1 ? "time" : "times"} in the last 7 days on {preview.result.agents} {preview.result.agents === 1 ? "agent" : "agents"}.</p>
          {preview.result.episodes.length > 0 && <ul>{preview.result.episodes.slice(0, 10).map((ep) => <li>{ep.agent_id}: {when(ep.fired_at)} → {ep.resolved_at ? when(ep.resolved_at) : "still firing"} ({ep.message})</li>)}</ul>}
          {preview.metric && <BacktestChart metric={preview.metric} threshold={preview.threshold} episodes={preview.result.episodes} fallbackAgent={preview.fallbackAgent} fromMs={preview.fromMs} toMs={preview.toMs} />}
        </div>
      )}
      {typeForm.noPreview && <p class="muted hint" id="no-preview">{typeForm.noPreview}</p>}
      <div class="form-actions">
        <button type="submit" class="write">{rule ? "Save rule" : "Create rule"}</button>
        <button type="button" class="secondary write" onClick={runPreview} disabled={typeForm.noPreview !== undefined} aria-describedby={typeForm.noPreview ? "no-preview" : undefined}>Preview</button>
        <button type="button" class="link" onClick={() => onDone(false)}>Cancel</button>
      </div>
    </form>
  );
}
