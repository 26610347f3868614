/** Load averages over 1, 5 and 15 minutes. */
export interface LoadAverages {
  load1: number;
  load5: number;
  load15: number;
}

/** Parses /proc/loadavg (`0.52 0.58 0.59 1/467 12345`). */
export function parseLoadavg(text: string): LoadAverages {
  const f = text.trim().split(/\s+/).map(Number);
  if (f.length < 3 || f.slice(0, 3).some((x) => !Number.isFinite(x))) throw new Error(`unexpected /proc/loadavg: ${text.slice(0, 80)}`);
  return { load1: f[0]!, load5: f[1]!, load15: f[2]! };
}

/** Whole seconds since boot from /proc/uptime (`350735.47 234388.90`). */
export function parseUptime(text: string): number {
  const seconds = Number.parseFloat(text.trim().split(/\s+/)[0] ?? "");
  if (!Number.isFinite(seconds)) throw new Error(`unexpected /proc/uptime: ${text.slice(0, 80)}`);
  return Math.floor(seconds);
}
