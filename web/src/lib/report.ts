/*
 * GET /v1/reports as the page uses it: its shape (as the OpenAPI component AvailabilityReport)
 * and the fleet-wide summary line.
 */
export interface Peak { p95: number; max: number }
export interface ReportCheck { check: string; type: string; target: string; availability_percent: number; probes: number }
export interface ReportHost {
  agent_id: string;
  availability_percent: number | null;
  covered_minutes: number;
  period_minutes: number;
  report_interval_secs: number;
  alerts: number;
  firing_seconds: number;
  cpu: Peak | null;
  memory: Peak | null;
  disk: (Peak & { mount?: string }) | null;
  checks: ReportCheck[];
}
export interface Report { from: string; to: string; generated_at: string; agents_pattern: string; hosts: ReportHost[] }

/** Minutes covered over minutes monitored, over every host: the fleet's availability. */
export function fleetAvailability(hosts: readonly ReportHost[]): number | null {
  let seen = 0, expected = 0;
  for (const h of hosts) {
    seen += Math.min(h.covered_minutes, h.period_minutes);
    expected += h.period_minutes;
  }
  return expected === 0 ? null : (100 * seen) / expected;
}

/**
 * A period ending now, as the <input type="datetime-local"> values of its ends. The inputs
 * hold whole minutes: the end is the next one, so what happened this minute is in.
 */
export function lastPeriod(hours: number, now = new Date()): { from: string; to: string } {
  const end = Math.ceil((now.getTime() + 1) / 60_000) * 60_000;
  return { from: localInput(new Date(end - hours * 3_600_000)), to: localInput(new Date(end)) };
}

/** A Date as datetime-local text (local time, to the minute). */
export function localInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Availability to two decimals: 99.95 % and 100 % must read differently. */
export function availability(v: number | null): string {
  return v === null ? "–" : `${v.toFixed(2)}%`;
}
