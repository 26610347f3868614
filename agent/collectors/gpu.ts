import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import type { MetricPoint } from "../../common/metrics.ts";
import { NVIDIA_SMI_ARGS, parseNvidiaSmi } from "../proc/parse-nvidia-smi.ts";
import { point, round2, type Collector } from "./collector.ts";
import { hostSearchPath } from "../config.ts";

export interface GpuOptions {
  /** The nvidia-smi to run (default: the one on the PATH, looked up once). */
  nvidiaSmi?: string | undefined;
  /** PATH to search (default `process.env.PATH`). */
  searchPath?: string;
  /** A call slower than this is killed and the collection goes on without GPUs (default 3000 ms). */
  timeoutMs?: number;
  /** Told once when there is no nvidia-smi, so the absence of GPU series is explained. */
  notice?: (message: string) => void;
}

/** An executable `name` in one of `searchPath`'s directories, looked up without a child process. */
export function findOnPath(name: string, searchPath = hostSearchPath()): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * `gpu.usage` (%), `gpu.memory_used` / `gpu.memory_total` (bytes), `gpu.temperature` (°C)
 * and `gpu.power_watts` per GPU (labels `gpu`: the index, `name`), from one nvidia-smi call
 * per collection. Without nvidia-smi on the PATH it reports nothing, and says so once; a
 * field the card does not report is left out rather than sent as 0.
 */
export function createGpuCollector(options: GpuOptions = {}): Collector {
  const binary = options.nvidiaSmi ?? findOnPath("nvidia-smi", options.searchPath);
  const timeoutMs = options.timeoutMs ?? 3000;
  let running = false;
  if (!binary) options.notice?.("no nvidia-smi on the PATH: no GPU metrics (install the NVIDIA driver's tools to collect them)");
  return {
    name: "gpu",
    async collect(nowMs: number): Promise<MetricPoint[]> {
      // One call at a time: a hung driver must not pile up processes.
      if (!binary || running) return [];
      running = true;
      try {
        return toPoints(await runNvidiaSmi(binary, timeoutMs), nowMs);
      } finally {
        running = false;
      }
    },
  };
}

function toPoints(output: string, nowMs: number): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const gpu of parseNvidiaSmi(output)) {
    const labels = { gpu: gpu.index, name: gpu.name };
    const add = (metric: string, value: number | undefined) => {
      if (value !== undefined) points.push(point(nowMs, metric, round2(value), labels));
    };
    add("gpu.usage", gpu.usage);
    add("gpu.memory_used", gpu.memoryUsedBytes);
    add("gpu.memory_total", gpu.memoryTotalBytes);
    add("gpu.temperature", gpu.temperature);
    add("gpu.power_watts", gpu.powerWatts);
  }
  return points;
}

function runNvidiaSmi(binary: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, NVIDIA_SMI_ARGS, { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 256 * 1024, encoding: "utf8" }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      // "No devices were found" is a host without GPUs, not a failure.
      if (/no devices were found/i.test(`${stdout}${stderr}`)) return resolve("");
      const why = (stderr || stdout).trim().split("\n")[0] || err.message;
      reject(new Error(`nvidia-smi failed: ${why}${err.killed ? ` (killed after ${timeoutMs} ms)` : ""}`));
    });
  });
}
