import type { AlertState } from "../alerts/alert-state.ts";
import type { AlertEvent } from "../alerts/types.ts";

/** One firing of one alert: from its firing until it resolved (null: still firing). */
export interface AlertEpisode {
  episodeId: string;
  agentId: string;
  ruleName: string;
  firedAt: number;
  resolvedAt: number | null;
}

/**
 * Episodes touching a report's period, from the history since its start and the alerts
 * firing now. An episode that fired before the period shows up by its resolved event (or as
 * active); one that fired inside it, by its firing event. The newest word on an episode wins.
 */
export function alertEpisodes(events: Iterable<AlertEvent>, active: Iterable<AlertState>): AlertEpisode[] {
  const byId = new Map<string, AlertEpisode>();
  for (const e of events) {
    const known = byId.get(e.episode_id);
    const resolvedAt = e.status === "resolved" ? e.resolved_at ?? e.fired_at : known?.resolvedAt ?? null;
    byId.set(e.episode_id, { episodeId: e.episode_id, agentId: e.agent_id, ruleName: e.rule_name, firedAt: e.fired_at, resolvedAt });
  }
  for (const s of active) {
    if (s.state !== "firing" || s.episode_id === null || s.fired_at === null) continue;
    if (!byId.has(s.episode_id)) byId.set(s.episode_id, { episodeId: s.episode_id, agentId: s.agent_id, ruleName: s.rule_id, firedAt: s.fired_at, resolvedAt: null });
  }
  return [...byId.values()];
}
