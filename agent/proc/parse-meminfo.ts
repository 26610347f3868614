/** Memory figures in bytes, as the memory collector reports them. */
export interface MemoryStats {
  total: number;
  used: number;
  available: number;
  swapTotal: number;
  swapUsed: number;
}

/** Every `Key: N kB` line of /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const rest = line.slice(colon + 1).trim().split(/\s+/);
    const value = Number(rest[0]);
    if (!Number.isFinite(value)) continue;
    fields.set(line.slice(0, colon), rest[1] === "kB" ? value * 1024 : value);
  }
  return fields;
}

/**
 * Used memory is total minus available (what could be given to a new program without
 * swapping), the definition of `free`'s "available" column and of the reference agent.
 * Kernels before 3.14 lack MemAvailable; free + buffers + page cache approximates it.
 */
export function memoryStats(fields: Map<string, number>): MemoryStats {
  const get = (key: string) => fields.get(key) ?? 0;
  const total = get("MemTotal");
  const available = Math.min(total, fields.get("MemAvailable") ?? get("MemFree") + get("Buffers") + get("Cached"));
  const swapTotal = get("SwapTotal");
  return {
    total,
    available,
    used: total - available,
    swapTotal,
    swapUsed: Math.max(0, swapTotal - get("SwapFree")),
  };
}
