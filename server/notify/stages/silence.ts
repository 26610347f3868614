import type { SilenceWindowConfig } from "../../config/schema.ts";

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
