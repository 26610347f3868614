/** Cumulative bytes moved by one block device. */
export interface DiskIoCounters {
  readBytes: number;
  writeBytes: number;
}

// /proc/diskstats counts in 512-byte units whatever the device's real sector size.
const SECTOR_BYTES = 512;

/**
 * Devices whose traffic is not disk traffic or is already counted on another device:
 * loop and ram disks (files and memory), zram (compressed memory), device-mapper and md
 * (LVM, LUKS and RAID volumes stacked on the physical disks below them), network block
 * devices, floppies and optical drives.
 */
const SKIPPED_DEVICE = /^(loop|ram|zram|dm-|md|nbd|fd|sr)\d/;

/**
 * Parses /proc/diskstats into per-device counters, keeping whole physical disks only.
 * A partition is dropped when its whole disk is listed too (the disk's counters include
 * it); when only partitions are visible, as in some containers, they are kept.
 */
export function parseDiskstats(text: string): Map<string, DiskIoCounters> {
  const all = new Map<string, DiskIoCounters>();
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const name = f[2]!;
    const readSectors = Number(f[5]);
    const writtenSectors = Number(f[9]);
    if (SKIPPED_DEVICE.test(name) || !Number.isFinite(readSectors) || !Number.isFinite(writtenSectors)) continue;
    all.set(name, { readBytes: readSectors * SECTOR_BYTES, writeBytes: writtenSectors * SECTOR_BYTES });
  }
  for (const name of [...all.keys()]) {
    if (isPartitionOfListed(name, all)) all.delete(name);
  }
  return all;
}

/** `sda1` of `sda`, `nvme0n1p2` of `nvme0n1`, `mmcblk0p1` of `mmcblk0` — but not `sdaa` of `sda`. */
function isPartitionOfListed(name: string, devices: Map<string, unknown>): boolean {
  for (let end = name.length - 1; end > 0; end--) {
    if (devices.has(name.slice(0, end)) && /^p?\d+$/.test(name.slice(end))) return true;
  }
  return false;
}
