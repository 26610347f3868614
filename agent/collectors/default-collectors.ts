import type { Collector } from "./collector.ts";
import { createCpuCollector } from "./cpu.ts";
import { createDirSizeCollector, type DirSizeOptions } from "./dir-size.ts";
import { createDiskIoCollector } from "./disk-io.ts";
import { createDiskCollector, type DiskOptions } from "./disk.ts";
import { createGpuCollector, type GpuOptions } from "./gpu.ts";
import { createLoadCollector } from "./load.ts";
import { createMemoryCollector } from "./memory.ts";
import { createNetworkCollector } from "./network.ts";

export interface CollectorOptions extends DiskOptions {
  /** The slow loop's directory sizes; left out without it. */
  dirSize?: DirSizeOptions;
  gpu?: GpuOptions;
}

/** Every collector the agent runs: /proc readers on Linux, systeminformation elsewhere; GPUs and directory sizes on both. */
export async function createDefaultCollectors(options: CollectorOptions = {}, platform: NodeJS.Platform = process.platform): Promise<Collector[]> {
  if (platform !== "linux") {
    const { createPortableCollectors } = await import("./portable.ts");
    return [...await createPortableCollectors(), ...createExtraCollectors(options)];
  }
  return createLinuxCollectors(options);
}

/** The /proc collectors; rate baselines are read now. */
export function createLinuxCollectors(options: CollectorOptions = {}): Collector[] {
  return [
    createCpuCollector(options),
    createMemoryCollector(options),
    createDiskCollector(options),
    createDiskIoCollector(options),
    createNetworkCollector(options),
    createLoadCollector(options),
    ...createExtraCollectors(options),
  ];
}

/** Collectors that read no /proc file: nvidia-smi and the directory walk. */
function createExtraCollectors(options: CollectorOptions): Collector[] {
  return [createGpuCollector(options.gpu), ...(options.dirSize ? [createDirSizeCollector(options.dirSize)] : [])];
}
