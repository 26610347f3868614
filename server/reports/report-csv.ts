import type { AvailabilityReport as Report } from "../http/openapi/report-schemas.ts";

/** The CSV columns: one row per host (kind=host) and one per check of a host (kind=check). */
const COLUMNS = [
  "kind", "agent_id", "check", "type", "target", "availability_percent", "covered_minutes", "period_minutes", "report_interval_secs", "probes",
  "alerts", "firing_seconds", "cpu_p95", "cpu_max", "memory_p95", "memory_max", "disk_p95", "disk_max", "disk_mount",
] as const;

type Row = Partial<Record<(typeof COLUMNS)[number], string | number | null | undefined>>;

/** The report as RFC 4180 CSV (CRLF line ends, fields quoted when they need it). */
export function reportCsv(report: Report): string {
  const rows: Row[] = [];
  for (const h of report.hosts) {
    rows.push({
      kind: "host", agent_id: h.agent_id, availability_percent: h.availability_percent, covered_minutes: h.covered_minutes,
      period_minutes: h.period_minutes, report_interval_secs: h.report_interval_secs, alerts: h.alerts, firing_seconds: h.firing_seconds,
      cpu_p95: h.cpu?.p95, cpu_max: h.cpu?.max, memory_p95: h.memory?.p95, memory_max: h.memory?.max,
      disk_p95: h.disk?.p95, disk_max: h.disk?.max, disk_mount: h.disk?.mount,
    });
    for (const c of h.checks) {
      rows.push({ kind: "check", agent_id: h.agent_id, check: c.check, type: c.type, target: c.target, availability_percent: c.availability_percent, probes: c.probes });
    }
  }
  const lines = [COLUMNS.join(","), ...rows.map((row) => COLUMNS.map((c) => csvField(row[c])).join(","))];
  return lines.join("\r\n") + "\r\n";
}

function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  // A leading = + - @ would make a spreadsheet run the cell as a formula: quote-prefix it.
  const safe = /^[=+\-@]/.test(text) && typeof value === "string" ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
