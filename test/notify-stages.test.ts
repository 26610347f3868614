import test from "ava";
import { silenceWindowSchema } from "../server/config/schema.ts";
import { fillTemplate } from "../server/notify/channels/webhook.ts";
import { route } from "../server/notify/stages/route.ts";
import { afterAttempt, type RetryPolicy } from "../server/notify/stages/retry.ts";
import { silencedUntil } from "../server/notify/stages/silence.ts";
import { event } from "./helpers/alert-event.ts";

test("route: severity at least the channel's minimum; resolved only where send_resolved", (t) => {
  const channels = [
    { id: "all", min_severity: "info" as const, send_resolved: true },
    { id: "crit", min_severity: "critical" as const, send_resolved: true },
    { id: "firing-only", min_severity: "info" as const, send_resolved: false },
  ];
  t.deepEqual(route(event({ severity: "warning" }), channels), ["all", "firing-only"]);
  t.deepEqual(route(event({ severity: "critical" }), channels), ["all", "crit", "firing-only"]);
  t.deepEqual(route(event({ severity: "critical", status: "resolved" }), channels), ["all", "crit"]);
});

const w = (fields: Record<string, unknown>) => silenceWindowSchema.parse(fields);
const at = (iso: string) => Date.parse(iso);

test("silence: a daily window, its end, and the instant after", (t) => {
  const daily = [w({ start_time: "02:00", end_time: "04:00" })];
  t.is(silencedUntil(daily, at("2026-11-23T01:59:59Z")), null);
  t.is(silencedUntil(daily, at("2026-11-23T02:00:00Z")), at("2026-11-23T04:00:00Z"));
  t.is(silencedUntil(daily, at("2026-11-23T03:30:15Z")), at("2026-11-23T04:00:00Z"));
  t.is(silencedUntil(daily, at("2026-11-23T04:00:00Z")), null);
});

test("silence: windows across midnight belong to the day they start", (t) => {
  // 2026-11-27 is a Friday. weekdays 22:00–06:00 covers Friday night into Saturday, not Saturday night.
  const nights = [w({ start_time: "22:00", end_time: "06:00", recurrence: "weekdays" })];
  t.is(silencedUntil(nights, at("2026-11-27T23:00:00Z")), at("2026-11-28T06:00:00Z"), "Friday 23:00");
  t.is(silencedUntil(nights, at("2026-11-28T05:00:00Z")), at("2026-11-28T06:00:00Z"), "Saturday 05:00, from Friday");
  t.is(silencedUntil(nights, at("2026-11-28T23:00:00Z")), null, "Saturday night");
  t.is(silencedUntil(nights, at("2026-11-30T05:00:00Z")), null, "Monday 05:00 (Sunday night is not a weekday window)");
});

test("silence: weekly days, once with a date, and time zones", (t) => {
  const weekend = [w({ start_time: "00:00", end_time: "23:59", recurrence: "weekly", days: ["sat", "sun"] })];
  t.not(silencedUntil(weekend, at("2026-11-29T12:00:00Z")), null, "Sunday");
  t.is(silencedUntil(weekend, at("2026-11-30T12:00:00Z")), null, "Monday");
  const once = [w({ start_time: "10:00", end_time: "11:00", recurrence: "once", date: "2026-11-24" })];
  t.not(silencedUntil(once, at("2026-11-24T10:30:00Z")), null);
  t.is(silencedUntil(once, at("2026-11-23T10:30:00Z")), null, "the day before");
  const shanghai = [w({ start_time: "02:00", end_time: "04:00", timezone: "Asia/Shanghai" })];
  t.is(silencedUntil(shanghai, at("2026-11-23T18:30:00Z")), at("2026-11-23T20:00:00Z"), "02:30 in Shanghai is 18:30 UTC");
  t.is(silencedUntil(shanghai, at("2026-11-23T02:30:00Z")), null);
});

const policy: RetryPolicy = { quickTries: 3, quickBaseMs: 1000, slowBaseMs: 60_000, slowMaxMs: 900_000, maxAgeMs: 3_600_000 };
const noJitter = () => 0.5;
const fail = (status: number, retryable: boolean) => ({ ok: false, retryable, status, detail: `HTTP ${status}` });

test("retry: three quick tries with exponential backoff, then a slower schedule, bounded by age", (t) => {
  t.deepEqual(afterAttempt(policy, 1, fail(500, true), 0, 0, noJitter), { action: "retry", at: 1000 });
  t.deepEqual(afterAttempt(policy, 2, fail(500, true), 0, 0, noJitter), { action: "retry", at: 2000 });
  t.deepEqual(afterAttempt(policy, 3, fail(503, true), 0, 0, noJitter), { action: "retry", at: 60_000 });
  t.deepEqual(afterAttempt(policy, 5, fail(503, true), 0, 0, noJitter), { action: "retry", at: 240_000 });
  t.deepEqual(afterAttempt(policy, 12, fail(503, true), 0, 0, noJitter), { action: "retry", at: 900_000 }, "capped");
  t.is(afterAttempt(policy, 9, fail(503, true), 0, 3_000_000, noJitter).action, "expired", "past max_delivery_age");
});

test("retry: 4xx other than 429 is final; 429 and network errors retry; jitter stays within ±20 %", (t) => {
  t.like(afterAttempt(policy, 1, fail(400, false), 0, 0), { action: "failed" });
  t.like(afterAttempt(policy, 1, fail(429, true), 0, 0), { action: "retry" });
  t.deepEqual(afterAttempt(policy, 1, { ok: true, retryable: false, detail: "" }, 0, 0), { action: "sent" });
  for (const r of [0, 0.999]) {
    const d = afterAttempt(policy, 2, fail(502, true), 0, 0, () => r) as { at: number };
    t.true(d.at >= 1600 && d.at <= 2400);
  }
});

test("webhook body_template: values escaped for JSON; aggregated messages list every agent and value", (t) => {
  const template = '{"text": "{{severity}} {{agent_id}}: {{metric}}={{value}} ({{threshold}}) {{status}}", "msg": "{{message}}", "labels": "{{labels}}", "at": "{{timestamp}}", "x": "{{unknown}}"}';
  const tricky = event({ agent_id: 'web-"1"\\', labels: { mount: "/data\n" } });
  const body = fillTemplate(template, { id: "n1", status: "firing", rule_name: "high-cpu", severity: "warning", events: [tricky, event({ agent_id: "web-2", value: 91 })] }) as Record<string, string>;
  t.is(body.text, 'warning web-"1"\\, web-2: cpu.usage=95.50, 91 (90) firing');
  t.true(body.msg!.includes("[FIRING] high-cpu (warning)"));
  t.is(body.labels, '{mount="/data\\n"}');
  t.is(body.at, "2026-11-23T10:00:00.000Z");
  t.is(body.x, "{{unknown}}", "unknown placeholders are left alone");
});
