import { useState } from "preact/hooks";
import { globToRegExp } from "../../../../common/glob.ts";
import { api } from "../../lib/api.ts";
import { useLoad } from "../ui.tsx";
import type { Rule, RuleTypeForm } from "./rule-type.ts";

/** A server-managed check as GET /v1/checks lists it (the fields the editor uses). */
interface ServerCheck { name: string; type: string; target: string; agent_pattern: string }

const loadChecks = () => api<ServerCheck[]>("/v1/checks");
const loadAgentIds = async () => (await api<{ agent_id: string }[]>("/v1/agents")).map((a) => a.agent_id);

/** The agents that run `check` and that the rule's own agent pattern lets vote. */
export function agentsRunning(check: ServerCheck, rulePattern: string, agentIds: readonly string[]): string[] {
  const runs = globToRegExp(check.agent_pattern);
  const counted = globToRegExp(rulePattern);
  return agentIds.filter((id) => runs.test(id) && counted.test(id));
}

function Fields({ rule }: { rule: Rule | null }) {
  const known = useLoad(() => Promise.all([loadChecks(), loadAgentIds()]));
  const [chosen, setChosen] = useState(rule ? String(rule.check) : "");
  const [checks, agentIds] = known.data ?? [[], []];
  const check = checks.find((c) => c.name === chosen);
  const running = check ? agentsRunning(check, "*", agentIds).length : undefined;
  return (
    <>
      <label>Check
        <select name="check" value={chosen} onChange={(e) => setChosen((e.target as HTMLSelectElement).value)} aria-describedby="rule-check-note">
          <option value="">Choose a check…</option>
          {checks.map((c) => <option value={c.name}>{c.name} ({c.type} {c.target})</option>)}
          {chosen && known.data && !check && <option value={chosen}>{chosen} (not a server-managed check)</option>}
        </select>
      </label>
      <label>Minimum failing agents<input name="min_failing_agents" type="number" min="1" step="1" defaultValue={String(rule?.min_failing_agents ?? 1)} /></label>
      <label>For (seconds)<input name="duration_secs" type="number" min="0" step="1" defaultValue={String(rule?.duration_secs ?? 60)} /></label>
      <p class="hint muted wide" id="rule-check-note">
        {known.error ?? (!known.data ? "Loading checks…"
          : checks.length === 0 ? "No server-managed checks yet: add one (POST /v1/checks, see docs/checks.md), then make its rule here."
          : check ? `${check.name} is run by ${running} ${running === 1 ? "agent" : "agents"} (agent pattern ${check.agent_pattern}); the rule fires when at least the minimum of them see ${check.target} down.`
          : "Fires when at least the minimum number of the agents running the check see its target down.")}
      </p>
    </>
  );
}

/** At least `min_failing_agents` of the agents running `check` see its target down, for `duration_secs`. */
export const reachabilityForm: RuleTypeForm = {
  Fields,
  metric: "fixed",
  read: (f) => ({ check: String(f.get("check") ?? ""), min_failing_agents: Number(f.get("min_failing_agents")), duration_secs: Number(f.get("duration_secs") || 0) }),
  problems: async (rule) => {
    if (!rule.check) return ["Choose the check the rule watches (Check)."];
    const [checks, agentIds] = await Promise.all([loadChecks(), loadAgentIds()]);
    const check = checks.find((c) => c.name === rule.check);
    // A check from agents' own config is not listed: the server takes the rule, the count cannot be checked here.
    if (!check) return [];
    const running = agentsRunning(check, String(rule.agent_pattern), agentIds);
    const k = Number(rule.min_failing_agents);
    if (running.length === 0) return [`No agent runs check ${check.name}: its agent pattern ${check.agent_pattern} and the rule's ${String(rule.agent_pattern)} match none of the ${agentIds.length} agents. Change either pattern.`];
    if (k > running.length) {
      return [`Minimum failing agents is ${k}, but only ${running.length} ${running.length === 1 ? "agent runs" : "agents run"} check ${check.name} (${running.join(", ")}): the rule could never fire. Give at most ${running.length}, or run the check on more agents.`];
    }
    return [];
  },
  noPreview: "Preview is not available for reachability rules: the backtest replays each agent on its own, and this rule counts the agents failing together.",
  summary: (r) => `${String(r.check)} down on ≥ ${String(r.min_failing_agents)} ${r.min_failing_agents === 1 ? "agent" : "agents"}${Number(r.duration_secs) ? ` for ${String(r.duration_secs)} s` : ""}`,
};
