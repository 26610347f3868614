import { z } from "zod";
import { seriesKey } from "../../../common/metrics.ts";
import { postJson } from "../http-post.ts";
import { fmt, plainText, title } from "../render.ts";
import type { ChannelPlugin, Notification } from "../types.ts";

const schema = z.strictObject({
  url: z.url(),
  headers: z.record(z.string(), z.string()).default({}),
  /** JSON with {{agent_id}} {{metric}} {{value}} {{threshold}} {{severity}} {{status}} {{message}} {{labels}} {{timestamp}}. */
  body_template: z.string().min(2).optional(),
});

/** Generic webhook: a JSON POST, either tsmon's payload or the configured template. */
export const webhook: ChannelPlugin<z.infer<typeof schema>> = {
  type: "webhook",
  schema,
  secrets: ["headers"],
  create: (cfg, deps) => ({
    async send(n) {
      let body: unknown;
      try {
        body = cfg.body_template ? fillTemplate(cfg.body_template, n) : payload(n);
      } catch (err) {
        // A template that does not make JSON fails the same way every time: not worth a retry.
        return { ok: false, retryable: false, reason: "config", detail: `body_template is not JSON once filled: ${(err as Error).message}` };
      }
      return postJson(cfg.url, body, { headers: { ...cfg.headers, "x-tsmon-notification-id": n.id }, timeoutMs: deps.timeoutMs });
    },
  }),
};

function payload(n: Notification) {
  return {
    id: n.id, status: n.status, rule: n.rule_name, severity: n.severity, title: title(n), message: plainText(n),
    test: n.test ?? false,
    alerts: n.events.map((e) => ({
      agent_id: e.agent_id, metric: e.metric, labels: e.labels, value: e.value, threshold: e.threshold,
      severity: e.severity, status: e.status, message: e.message,
      fired_at: new Date(e.fired_at).toISOString(), resolved_at: e.resolved_at === null ? null : new Date(e.resolved_at).toISOString(),
    })),
  };
}

/**
 * Fills the template with values escaped for a JSON string context, then parses it, so a
 * template that is not JSON fails loudly. Aggregated notifications list every agent and value.
 */
export function fillTemplate(template: string, n: Notification): unknown {
  const first = n.events[0];
  const vars: Record<string, string> = {
    agent_id: n.events.map((e) => e.agent_id).join(", "),
    metric: first?.metric ?? "",
    value: n.events.map((e) => fmt(e.value)).join(", "),
    threshold: first ? fmt(first.threshold) : "",
    severity: n.severity,
    status: n.status,
    message: plainText(n),
    labels: n.events.map((e) => seriesKey("", e.labels)).filter(Boolean).join(", "),
    timestamp: new Date(first ? (first.status === "firing" ? first.fired_at : first.resolved_at!) : Date.now()).toISOString(),
  };
  const filled = template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) =>
    name in vars ? JSON.stringify(vars[name]).slice(1, -1) : whole);
  return JSON.parse(filled);
}
