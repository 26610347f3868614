import type { Collector } from "./collector.ts";
import { createCpuCollector } from "./cpu.ts";
import { createDiskIoCollector } from "./disk-io.ts";
import { createDiskCollector, type DiskOptions } from "./disk.ts";
import { createLoadCollector } from "./load.ts";
import { createMemoryCollector } from "./memory.ts";
import { createNetworkCollector } from "./network.ts";

/** Every collector the agent runs: /proc readers on Linux, systeminformation elsewhere. */
export async function createDefaultCollectors(options: DiskOptions = {}, platform: NodeJS.Platform = process.platform): Promise<Collector[]> {
  if (platform !== "linux") {
    const { createPortableCollectors } = await import("./portable.ts");
    return createPortableCollectors();
  }
  return createLinuxCollectors(options);
}

/** The /proc collectors; rate baselines are read now. */
export function createLinuxCollectors(options: DiskOptions = {}): Collector[] {
  return [
    createCpuCollector(options),
    createMemoryCollector(options),
    createDiskCollector(options),
    createDiskIoCollector(options),
    createNetworkCollector(options),
    createLoadCollector(options),
  ];
}
