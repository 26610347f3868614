/** Display helpers: short, unit-aware, never throwing on null. */
export function pct(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? "–" : `${v.toFixed(v < 10 ? 1 : 0)}%`;
}

const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB", "PB"];
export function bytes(v: number | null | undefined, suffix = ""): string {
  if (v == null || !Number.isFinite(v)) return "–";
  let i = 0;
  let n = Math.abs(v);
  while (n >= 1024 && i < BYTE_UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${v < 0 ? "-" : ""}${n.toFixed(n < 10 && i > 0 ? 1 : 0)} ${BYTE_UNITS[i]}${suffix}`;
}

export function duration(secs: number | null | undefined): string {
  if (secs == null || !Number.isFinite(secs)) return "–";
  const d = Math.floor(secs / 86400), h = Math.floor((secs % 86400) / 3600), m = Math.floor((secs % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m`;
}

export function num(v: number | null | undefined, digits = 2): string {
  return v == null || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const secs = Math.max(0, (now - Date.parse(iso)) / 1000);
  return secs < 60 ? `${Math.round(secs)} s ago` : `${duration(secs)} ago`;
}

export function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(", ") : "";
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : "–";
}
