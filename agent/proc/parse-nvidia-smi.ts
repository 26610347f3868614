/** One GPU as `nvidia-smi --query-gpu=…` reports it; a field the card does not report is undefined. */
export interface GpuReading {
  index: string;
  name: string;
  /** % */
  usage: number | undefined;
  memoryUsedBytes: number | undefined;
  memoryTotalBytes: number | undefined;
  /** °C */
  temperature: number | undefined;
  powerWatts: number | undefined;
}

/** The query the parser reads, field for field (memory in MiB, with `nounits`). */
export const NVIDIA_SMI_ARGS = [
  "--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw",
  "--format=csv,noheader,nounits",
] as const;

const MIB = 1024 * 1024;

/**
 * Parses the output of NVIDIA_SMI_ARGS: one line per GPU, fields separated by ", ".
 * `[N/A]`, `[Not Supported]` and the like (a GeForce without utilization counters, a card
 * without power readings) leave that field undefined, not 0. A name may hold a comma, so
 * the index is the first field, the five figures the last, and the name what is between.
 */
export function parseNvidiaSmi(text: string): GpuReading[] {
  const readings: GpuReading[] = [];
  for (const [n, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const fields = line.split(",").map((f) => f.trim());
    if (fields.length < 7 || !/^\d+$/.test(fields[0]!)) {
      throw new Error(`nvidia-smi line ${n + 1} is not "index, name, utilization, memory.used, memory.total, temperature, power": ${line.slice(0, 120)}`);
    }
    const [usage, memUsed, memTotal, temperature, power] = fields.slice(-5).map(figure);
    readings.push({
      index: fields[0]!,
      name: fields.slice(1, -5).join(", "),
      usage,
      memoryUsedBytes: memUsed === undefined ? undefined : memUsed * MIB,
      memoryTotalBytes: memTotal === undefined ? undefined : memTotal * MIB,
      temperature,
      powerWatts: power,
    });
  }
  return readings;
}

/** A number, or undefined for `[N/A]`, `[Not Supported]`, `[Unknown Error]`, `N/A` or anything else not numeric. */
function figure(field: string): number | undefined {
  if (!/^-?\d+(?:\.\d+)?$/.test(field)) return undefined;
  return Number(field);
}
