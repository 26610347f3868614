import { createHash } from "node:crypto";
import { seriesKey } from "../../common/metrics.ts";
import { alertKeyString, type AlertState, type AlertUpdate } from "./alert-state.ts";
import { SEVERITY_RANK, type AlertEvent, type AlertKey, type AlertRule, type Target } from "./types.ts";

/** One target for one alert, under the rule it was observed for. */
export interface AlertItem {
  rule: AlertRule;
  key: AlertKey;
  target: Target;
}

/**
 * The transitions of several alerts from their stored states (missing: never stored),
 * in order, so a later target of the same alert starts from an earlier one's result.
 * Only states worth keeping are written: an alert that has never been active needs no
 * memory, and a value-only update of an inactive one is not worth a write.
 */
export function transitionAll(items: readonly AlertItem[], stored: ReadonlyMap<string, AlertState>): AlertUpdate {
  const current = new Map(stored);
  const writes = new Map<string, AlertState>();
  const events: AlertEvent[] = [];
  for (const { rule, key, target } of items) {
    const k = alertKeyString(key);
    const prev = current.get(k);
    const result = transition(rule, key, prev, target);
    if (!result) continue;
    if (result.next.state !== "inactive" || (prev && prev.state !== "inactive")) {
      current.set(k, result.next);
      writes.set(k, result.next);
    }
    events.push(...result.events);
  }
  return { states: [...writes], events };
}


/**
 * inactive → pending → firing → resolved, for one alert. Pure: the same stored state and
 * target always give the same next state and events, so concurrent evaluators that
 * serialize on the store cannot notify twice. One firing and one resolved event per
 * episode; a new episode within `silence_secs` of the last firing event is silenced (no
 * firing and no resolved event); a worse severity tier while firing fires again.
 */
export function transition(rule: AlertRule, key: AlertKey, stored: AlertState | undefined, target: Target): { next: AlertState; events: AlertEvent[] } | null {
  if (stored && target.ts < stored.updated_at) return null;
  const prev: AlertState = stored ?? {
    rule_id: key.ruleId, agent_id: key.agentId, metric: key.metric, labels: key.labels, state: "inactive",
    severity: target.severity, since: null, fired_at: null, episode_id: null, silenced: false, last_fired_at: null,
    value: target.value, threshold: target.threshold, message: "", predicted_at: null, updated_at: target.ts,
  };
  const next: AlertState = {
    ...prev, value: target.value, threshold: target.threshold, message: target.message,
    predicted_at: target.predictedAt ?? null, updated_at: target.ts,
  };
  const events: AlertEvent[] = [];

  switch (target.state) {
    case "inactive":
      if (prev.state === "firing" && !prev.silenced) events.push(makeEvent(rule, next, "resolved", prev.fired_at!, target.ts, prev.episode_id));
      Object.assign(next, { state: "inactive", since: null, fired_at: null, episode_id: null, silenced: false });
      break;
    case "pending":
      // A firing alert whose clock restarted (a gap) is still breaching: it stays firing.
      if (prev.state === "inactive") Object.assign(next, { state: "pending", since: target.since ?? target.ts, severity: target.severity });
      break;
    case "firing":
      if (prev.state === "firing") {
        if (SEVERITY_RANK[target.severity] > SEVERITY_RANK[prev.severity]) {
          next.severity = target.severity;
          if (!prev.silenced) {
            events.push(makeEvent(rule, next, "firing", target.ts, null, prev.episode_id));
            next.last_fired_at = target.ts;
          }
        }
        break;
      }
      next.state = "firing";
      next.severity = target.severity;
      next.since = prev.since ?? target.since ?? target.ts;
      next.fired_at = target.ts;
      next.silenced = prev.last_fired_at !== null && target.ts - prev.last_fired_at < rule.silence_secs * 1000;
      if (!next.silenced) {
        const event = makeEvent(rule, next, "firing", target.ts, null, null);
        events.push(event);
        next.episode_id = event.id;
        next.last_fired_at = target.ts;
      }
      break;
  }
  return { next, events };
}

function makeEvent(rule: AlertRule, s: AlertState, status: AlertEvent["status"], firedAt: number, resolvedAt: number | null, episode: string | null): AlertEvent {
  const id = createHash("sha1")
    .update([s.rule_id, s.agent_id, seriesKey(s.metric, s.labels), status, firedAt, resolvedAt ?? "", s.severity].join("\u0000"))
    .digest("hex").slice(0, 20);
  const where = Object.keys(s.labels).length ? ` ${seriesKey("", s.labels)}` : "";
  return {
    id, episode_id: episode ?? id, status, rule_id: s.rule_id, rule_name: rule.name, agent_id: s.agent_id, metric: s.metric, labels: s.labels,
    value: s.value, threshold: s.threshold, severity: s.severity,
    message: `[${status === "firing" ? s.severity : "resolved"}] ${rule.name} on ${s.agent_id}${where}: ${s.message}`,
    fired_at: firedAt, resolved_at: resolvedAt, predicted_at: s.predicted_at,
  };
}
