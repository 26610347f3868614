import { seriesKey } from "../../common/metrics.ts";
import type { AlertEvent } from "../alerts/types.ts";
import type { Notification } from "./types.ts";

/** `[FIRING] high-cpu (critical)` / `[RESOLVED] high-cpu`. */
export function title(n: Notification): string {
  if (n.test) return "[TEST] tsmon notification channel test";
  return n.status === "firing" ? `[FIRING] ${n.rule_name} (${n.severity})` : `[RESOLVED] ${n.rule_name}`;
}

/** One line per event: agent, series, value and threshold, when. */
export function eventLine(e: AlertEvent): string {
  const labels = Object.keys(e.labels).length ? ` ${seriesKey("", e.labels)}` : "";
  const at = new Date(e.status === "firing" ? e.fired_at : e.resolved_at ?? e.fired_at).toISOString();
  return `${e.agent_id}${labels}: ${e.metric} = ${fmt(e.value)} (threshold ${fmt(e.threshold)}) at ${at}`;
}

/** Plain-text body: the title, then every agent and value, then the first event's message. */
export function plainText(n: Notification): string {
  if (n.test) return `${title(n)}\nThis channel is configured correctly.`;
  const lines = [title(n), ...n.events.map((e) => `- ${eventLine(e)}`)];
  if (n.events.length === 1) lines.push(n.events[0]!.message);
  return lines.join("\n");
}

/** Markdown for DingTalk, WeChat Work and Slack-like receivers. */
export function markdown(n: Notification): string {
  if (n.test) return `### ${title(n)}\nThis channel is configured correctly.`;
  const lines = [`### ${title(n)}`, ...n.events.map((e) => `- **${e.agent_id}** ${eventLine(e).slice(e.agent_id.length + 2)}`)];
  if (n.events.length === 1) lines.push("", `> ${n.events[0]!.message}`);
  return lines.join("\n");
}

export function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}
