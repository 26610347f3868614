import { readFileSync } from "node:fs";
import os from "node:os";
import type { SystemInfo } from "../common/metrics.ts";
import { createDiskUsageReader } from "./collectors/disk.ts";
import { parseOsRelease } from "./proc/parse-os-release.ts";

/** Written into the bundle by scripts/build-agent.mjs; undefined when run from source. */
declare const TSMON_AGENT_VERSION: string | undefined;

/**
 * tsmon's version: built in when bundled (a deployed bundle has no package.json of ours
 * beside it, and must not read someone else's), else read once from package.json.
 */
export const agentVersion: string = typeof TSMON_AGENT_VERSION === "string" ? TSMON_AGENT_VERSION : (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
})();

/**
 * Host facts sent with every batch, read once at start-up. On Linux everything comes
 * from node:os, os-release and statfs (no child process); elsewhere systeminformation
 * names the OS and sums the disks.
 */
export async function readSystemInfo(platform: NodeJS.Platform = process.platform): Promise<SystemInfo> {
  const base = {
    hostname: os.hostname(),
    kernel: os.release(),
    arch: os.arch(),
    cpuCores: os.cpus().length || os.availableParallelism(),
    memoryTotal: os.totalmem(),
    agentVersion,
  };
  if (platform === "linux") {
    const mounts = await createDiskUsageReader()().catch(() => []);
    return { ...base, os: linuxOsName(), diskTotal: mounts.reduce((sum, m) => sum + m.usage.total, 0) };
  }
  // The default export (CommonJS module.exports): the bundle's chunk has no named exports.
  const { default: si } = await import("systeminformation");
  const [osInfo, disks] = await Promise.all([si.osInfo().catch(() => undefined), si.fsSize().catch(() => [])]);
  const name = osInfo ? `${osInfo.distro} ${osInfo.release}`.trim() : `${os.type()} ${os.release()}`;
  return { ...base, os: name, diskTotal: disks.reduce((sum, d) => sum + (d.size > 0 ? d.size : 0), 0) };
}

function linuxOsName(): string {
  for (const file of ["/etc/os-release", "/usr/lib/os-release"]) {
    try {
      const name = parseOsRelease(readFileSync(file, "utf8"));
      if (name) return name;
    } catch {
      // Try the next location; os-release is optional.
    }
  }
  return `Linux ${os.release()}`;
}
