/** One line of /proc/self/mounts. */
export interface MountEntry {
  source: string;
  mountPoint: string;
  fsType: string;
}

/** Space figures of one mounted file system, in bytes. */
export interface DiskUsage {
  total: number;
  used: number;
  available: number;
}

/** The subset of fs.StatsFs that disk usage needs. */
export interface StatFsLike {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  /** Inodes in all, and free (absent or 0 on file systems without a fixed inode table). */
  files?: number;
  ffree?: number;
}

/** A file system's inodes, as `df -i` counts them. */
export interface InodeUsage {
  total: number;
  used: number;
}

/**
 * File systems that hold no user data or only mirror another one: kernel interfaces,
 * memory-backed ones, read-only images (snap packages), automount placeholders.
 */
const PSEUDO_FS_TYPES = new Set([
  "proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "ramfs", "rootfs", "cgroup", "cgroup2",
  "securityfs", "pstore", "debugfs", "tracefs", "configfs", "fusectl", "mqueue", "hugetlbfs",
  "bpf", "binfmt_misc", "autofs", "rpc_pipefs", "nsfs", "efivarfs", "selinuxfs", "squashfs",
  "nfsd", "overlay", "aufs", "fuse.lxcfs", "fuse.gvfsd-fuse", "fuse.portal", "fuse.snapfuse",
  "iso9660", "udf", "devfs", "none",
]);

/** True for a mount that is never reported (see selectDiskMounts). */
export function isPseudoMount(entry: MountEntry): boolean {
  const isContainerRoot = entry.mountPoint === "/" && (entry.fsType === "overlay" || entry.fsType === "aufs");
  return PSEUDO_FS_TYPES.has(entry.fsType) && !isContainerRoot;
}

/** Sources that name no device, so they cannot identify a file system. */
const ANONYMOUS_SOURCES = new Set(["none", ""]);

/** Parses /proc/self/mounts, undoing the kernel's octal escapes (`\040` is a space). */
export function parseMounts(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    if (fields.length < 3) continue;
    entries.push({ source: unescapeMount(fields[0]!), mountPoint: unescapeMount(fields[1]!), fsType: fields[2]! });
  }
  return entries;
}

function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * The mounts worth reporting, sorted by mount point. Pseudo file systems are skipped, with
 * one exception: an overlay at `/` is a container's root and the only disk it can see.
 * A device mounted several times (bind mounts, btrfs subvolumes) is one file system with
 * one set of figures: it is reported once, under its shortest mount point. (Files
 * bind-mounted into a container, such as /etc/hosts, are left out before this by the
 * disk collector, which can tell a file from a directory.)
 */
export function selectDiskMounts(entries: readonly MountEntry[]): MountEntry[] {
  const bySource = new Map<string, MountEntry>();
  for (const entry of entries) {
    if (isPseudoMount(entry)) continue;
    const key = ANONYMOUS_SOURCES.has(entry.source) ? `${entry.fsType}\0${entry.mountPoint}` : entry.source;
    const seen = bySource.get(key);
    if (!seen || entry.mountPoint.length < seen.mountPoint.length) bySource.set(key, entry);
  }
  return [...bySource.values()].sort((a, b) => (a.mountPoint < b.mountPoint ? -1 : a.mountPoint > b.mountPoint ? 1 : 0));
}

/**
 * Usage as `df` computes it: used = blocks - free; available = blocks an unprivileged
 * user may still write (excludes the root reserve). Undefined for a file system with no
 * blocks (an empty or pseudo one that slipped through), which has nothing to report.
 */
export function diskUsage(stats: StatFsLike): DiskUsage | undefined {
  if (!(stats.blocks > 0) || !(stats.bsize > 0)) return undefined;
  const total = stats.blocks * stats.bsize;
  const used = Math.max(0, stats.blocks - stats.bfree) * stats.bsize;
  const available = Math.max(0, Math.min(stats.bavail, stats.blocks)) * stats.bsize;
  return { total, used, available };
}

/**
 * Inodes in all and in use (`df -i`: IUsed = files - ffree); undefined where the file
 * system has no fixed inode table (btrfs, vfat and others report 0 files), since a 0 %
 * there would read as "plenty left".
 */
export function inodeUsage(stats: StatFsLike): InodeUsage | undefined {
  const total = stats.files ?? 0;
  if (!(total > 0)) return undefined;
  return { total, used: Math.max(0, total - Math.min(total, stats.ffree ?? 0)) };
}

/** Used share of the space a user can have (used + available), as `df`'s Use%. */
export function diskUsedPercent(usage: DiskUsage): number {
  const usable = usage.used + usage.available;
  return usable > 0 ? Math.min(100, (usage.used / usable) * 100) : 0;
}
