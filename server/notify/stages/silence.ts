import type { SilenceWindowConfig } from "../../config/schema.ts";
import type { Delivery } from "../../storage/notify-store.ts";
import { silenceOf } from "../alert-silences.ts";
import type { Outcome, Stage, StageContext } from "../pipeline.ts";

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

interface LocalTime { date: string; weekday: (typeof DAYS)[number]; minutes: number; seconds: number }

/** Wall-clock time in a time zone (the zone's own date, weekday and minute of day). */
export function localTime(nowMs: number, timeZone: string): LocalTime {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", weekday: "short", hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(nowMs)).map((p) => [p.type, p.value]));
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: parts.weekday!.toLowerCase().slice(0, 3) as LocalTime["weekday"],
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
    seconds: Number(parts.second),
  };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function dayMatches(w: SilenceWindowConfig, weekday: LocalTime["weekday"], date: string): boolean {
  switch (w.recurrence) {
    case "daily": return true;
    case "weekdays": return weekday !== "sat" && weekday !== "sun";
    case "weekly": return (w.days ?? []).includes(weekday);
    case "once": return w.date === date;
  }
}

function previousDay(t: LocalTime): { weekday: LocalTime["weekday"]; date: string } {
  const d = new Date(`${t.date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return { weekday: DAYS[(DAYS.indexOf(t.weekday) + 6) % 7]!, date: d.toISOString().slice(0, 10) };
}

/**
 * The silence window in force at `nowMs`, as the instant it ends; null when none is.
 * A window whose end is before its start runs across midnight and belongs to the day it
 * starts on (a "weekdays 22:00–06:00" window covers Friday night into Saturday morning).
 */
export function silencedUntil(windows: readonly SilenceWindowConfig[], nowMs: number): number | null {
  let until: number | null = null;
  for (const w of windows) {
    const t = localTime(nowMs, w.timezone);
    const start = toMinutes(w.start_time), end = toMinutes(w.end_time);
    let active: boolean;
    if (start < end) active = t.minutes >= start && t.minutes < end && dayMatches(w, t.weekday, t.date);
    else if (start > end) {
      const prev = previousDay(t);
      active = (t.minutes >= start && dayMatches(w, t.weekday, t.date)) || (t.minutes < end && dayMatches(w, prev.weekday, prev.date));
    } else active = false;
    if (!active) continue;
    const left = ((end - t.minutes + 1440) % 1440) * 60_000 - t.seconds * 1000;
    const ends = nowMs + Math.max(left, 1000);
    until = Math.max(until ?? 0, ends);
  }
  return until;
}

/** Held deliveries are looked at again this often: a window removed through the API releases them at once. */
const RECHECK_MS = 1_000;

/**
 * Holds what must not go out now. A delivery of a silenced alert is dropped (its silence
 * says so in the log). During a silence window the whole message waits for the
 * window's end. After it, a firing alert held through it that has resolved meanwhile is
 * dropped. A resolution goes only where its firing went: it waits while that firing is
 * still to be sent (a follow-up, a retry), and is dropped if the firing never went.
 */
export const silenceStage: Stage = async (ctx, flow) => {
  if (flow.deliveries.length === 0) return flow;
  const now = ctx.now();
  const silenced = flow.deliveries.filter((d) => silenceOf(ctx.alertSilences, d.event, now));
  if (silenced.length) {
    await ctx.store.finish(silenced, null);
    const by = silenceOf(ctx.alertSilences, silenced[0]!.event, now)!;
    const outcome = quiet("suppressed", silenced, `alert silenced (${by.id}, by ${by.created_by}) until ${new Date(by.ends_at).toISOString()}`);
    const rest = flow.deliveries.filter((d) => !silenced.includes(d));
    return silenceStage(ctx, { ...flow, deliveries: rest, outcomes: [...flow.outcomes, outcome] });
  }
  const until = silencedUntil(ctx.silences, now);
  if (until !== null) {
    const newlyHeld = flow.deliveries.filter((d) => d.status !== "held");
    await ctx.store.update(flow.deliveries.map((d) => ({ ...d, status: "held", next_at: Math.min(until, now + RECHECK_MS) })));
    const held: Outcome[] = newlyHeld.length ? [quiet("held", newlyHeld, `silence window until ${new Date(until).toISOString()}`)] : [];
    return { ...flow, deliveries: [], outcomes: [...flow.outcomes, ...held] };
  }
  const moot: Delivery[] = [], waiting: Delivery[] = [], go: Delivery[] = [];
  for (const d of flow.deliveries) {
    const verdict = relevance(ctx, d);
    if (verdict === "moot") moot.push(d);
    else if (verdict === "go") go.push(d);
    else waiting.push({ ...d, next_at: Math.max(verdict.until, now) + RECHECK_MS, group_id: `${d.group_id}|after-firing` });
  }
  // A resolution that waits leaves its message: the id it goes out under later must not be one a receiver has seen with other content.
  if (waiting.length) await ctx.store.update(waiting);
  if (moot.length) await ctx.store.finish(moot, null);
  const dropped: Outcome[] = moot.length ? [quiet("suppressed", moot, "no longer relevant: resolved while held, or its firing was never sent")] : [];
  return { ...flow, deliveries: go, outcomes: [...flow.outcomes, ...dropped] };
};

function relevance(ctx: StageContext, d: Delivery): "go" | "moot" | { until: number } {
  if (d.event.status === "firing") return d.status === "held" && !ctx.stillFiring(d.event) ? "moot" : "go";
  if (ctx.store.firingWasSent(d.event.episode_id, d.channel_id)) return "go";
  const firing = ctx.store.firingDelivery(d.event.episode_id, d.channel_id);
  return firing ? { until: firing.next_at } : "moot";
}

const quiet = (status: Outcome["status"], deliveries: Delivery[], detail: string): Outcome => ({ status, deliveries, attempt: 0, httpStatus: null, detail });
