/**
 * The seeds' flat metric names and the tsmon names they are stored under, declared once
 * (docs/api.md lists the same table). A name missing here is stored under its own name
 * when it is a valid metric name, so a seed's own figures are kept rather than refused.
 */
export const SEED_METRIC_NAMES: Readonly<Record<string, string>> = Object.freeze({
  cpu_usage: "cpu.usage",
  ram_usage: "memory.used_percent",
  memory_usage: "memory.used_percent",
  memory_used: "memory.used",
  memory_total: "memory.total",
  memory_available: "memory.available",
  swap_used: "memory.swap_used",
  swap_total: "memory.swap_total",
  disk_usage: "disk.used_percent",
  disk_used: "disk.used",
  disk_total: "disk.total",
  inode_usage: "disk.inodes_used_percent",
  docker_sz: "docker.dir_bytes",
  gpu_usage: "gpu.usage",
  gpu_memory_used: "gpu.memory_used",
  gpu_temperature: "gpu.temperature",
  load_1: "load.load_1",
  load_5: "load.load_5",
  load_15: "load.load_15",
  uptime: "load.uptime",
});

/** The tsmon name a seed's metric is stored under. */
export function tsmonMetricName(seedName: string): string {
  return Object.hasOwn(SEED_METRIC_NAMES, seedName) ? SEED_METRIC_NAMES[seedName]! : seedName;
}
