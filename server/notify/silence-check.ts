/** The window fields a silence window's own schema cannot check alone. */
interface SilenceWindowFields { recurrence: string; days?: readonly string[]; date?: string; timezone: string }

/**
 * What is wrong with a silence window beyond its schema: a weekly window needs days, a once
 * window a date, and the time zone must exist (an unknown one would make every notifier pass
 * throw). Shared by start-up validation and the HTTP API, so both refuse the same windows.
 */
export function silenceWindowProblems(w: SilenceWindowFields): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  if (w.recurrence === "weekly" && !w.days?.length) problems.push({ field: "days", message: "a weekly window needs days, e.g. [\"sat\", \"sun\"]" });
  if (w.recurrence === "once" && !w.date) problems.push({ field: "date", message: "a once window needs a date (YYYY-MM-DD)" });
  if (!isTimeZone(w.timezone)) problems.push({ field: "timezone", message: `unknown time zone '${w.timezone}'` });
  return problems;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
