import test from "ava";
import { readFileSync } from "node:fs";
import { counterRates } from "../agent/collectors/rates.ts";
import { parseDiskstats } from "../agent/proc/parse-diskstats.ts";
import { parseLoadavg, parseUptime } from "../agent/proc/parse-loadavg.ts";
import { memoryStats, parseMeminfo } from "../agent/proc/parse-meminfo.ts";
import { diskUsage, diskUsedPercent, parseMounts, selectDiskMounts } from "../agent/proc/parse-mounts.ts";
import { parseNetDev } from "../agent/proc/parse-net-dev.ts";
import { parseOsRelease } from "../agent/proc/parse-os-release.ts";
import { cpuPercent, parseProcStat } from "../agent/proc/parse-stat.ts";

const fixture = (name: string) => readFileSync(new URL(`../agent/proc/fixtures/${name}`, import.meta.url), "utf8");

test("/proc/stat: totals leave out guest time, idle includes iowait", (t) => {
  const a = parseProcStat(fixture("stat-a.txt"));
  t.deepEqual(a.all, { busy: 14_000, total: 95_000 });
  t.deepEqual([...a.cores.keys()], [0, 1]);
  t.deepEqual(a.cores.get(0), { busy: 7000, total: 47_500 });
});

test("/proc/stat: usage between two readings, per core, iowait running backwards included", (t) => {
  const a = parseProcStat(fixture("stat-a.txt"));
  const b = parseProcStat(fixture("stat-b.txt"));
  t.is(Math.round(cpuPercent(a.all, b.all)! * 100) / 100, 55);
  t.is(Math.round(cpuPercent(a.cores.get(0)!, b.cores.get(0)!)! * 100) / 100, 88.24);
  // cpu1's iowait went from 500 to 400: still a sane share, not negative.
  t.is(Math.round(cpuPercent(a.cores.get(1)!, b.cores.get(1)!)! * 100) / 100, 36.84);
});

test("/proc/stat: no tick elapsed gives no figure; results stay within 0..100", (t) => {
  const a = parseProcStat(fixture("stat-a.txt"));
  t.is(cpuPercent(a.all, a.all), undefined);
  t.is(cpuPercent({ busy: 100, total: 100 }, { busy: 300, total: 200 }), 100);
  t.is(cpuPercent({ busy: 100, total: 100 }, { busy: 50, total: 200 }), 0);
});

test("/proc/meminfo: bytes, used = total - available", (t) => {
  const m = memoryStats(parseMeminfo(fixture("meminfo.txt")));
  t.deepEqual(m, {
    total: 16_384_000 * 1024, available: 8_192_000 * 1024, used: 8_192_000 * 1024,
    swapTotal: 2_097_152 * 1024, swapUsed: 1_048_576 * 1024,
  });
  t.is(parseMeminfo(fixture("meminfo.txt")).get("HugePages_Total"), 0);
});

test("/proc/meminfo without MemAvailable (kernel < 3.14) estimates it from free + buffers + cache", (t) => {
  const m = memoryStats(parseMeminfo(fixture("meminfo-no-available.txt")));
  t.is(m.available, 2_000_000 * 1024);
  t.is(m.used, 2_000_000 * 1024);
  t.is(m.swapUsed, 0);
});

test("mounts: pseudo file systems out, escapes decoded, one mount per device (the shortest)", (t) => {
  const selected = selectDiskMounts(parseMounts(fixture("mounts.txt")));
  t.deepEqual(selected.map((m) => m.mountPoint), ["/", "/boot/efi", "/home", "/mnt/my data", "/mnt/nfs"]);
  t.is(selected.find((m) => m.mountPoint === "/")!.source, "/dev/nvme0n1p2");
});

test("mounts: a container's overlay root is kept, its bind mounts collapse to one", (t) => {
  const selected = selectDiskMounts(parseMounts(fixture("mounts-container.txt")));
  t.deepEqual(selected.map((m) => m.mountPoint), ["/", "/etc/hosts"]);
});

test("disk usage as df: zero-size file systems report nothing", (t) => {
  t.is(diskUsage({ bsize: 4096, blocks: 0, bfree: 0, bavail: 0 }), undefined);
  const u = diskUsage({ bsize: 4096, blocks: 1000, bfree: 300, bavail: 250 })!;
  t.deepEqual(u, { total: 4_096_000, used: 2_867_200, available: 1_024_000 });
  t.is(Math.round(diskUsedPercent(u) * 100) / 100, 73.68);
  t.is(diskUsedPercent({ total: 10, used: 0, available: 0 }), 0);
});

test("/proc/net/dev: header skipped, long names glued to their numbers", (t) => {
  const a = parseNetDev(fixture("net-dev-a.txt"));
  t.deepEqual([...a.keys()], ["lo", "eth0", "wlan0", "veth1234567"]);
  t.deepEqual(a.get("eth0"), { bytesRecv: 5_000_000, packetsRecv: 4000, bytesSent: 2_000_000, packetsSent: 3000 });
  t.deepEqual(a.get("veth1234567"), { bytesRecv: 1000, packetsRecv: 10, bytesSent: 2000, packetsSent: 20 });
});

test("network rates: appearing, disappearing and reset interfaces give no rate, never a negative one", (t) => {
  const rates = counterRates(parseNetDev(fixture("net-dev-a.txt")), parseNetDev(fixture("net-dev-b.txt")), 10);
  t.deepEqual([...rates.keys()], ["lo", "eth0"]); // wlan0 was reset, tun0 is new, veth gone
  t.deepEqual(rates.get("eth0"), { bytesRecv: 2000, packetsRecv: 4, bytesSent: 1000, packetsSent: 2 });
  t.deepEqual(rates.get("lo"), { bytesRecv: 1000, packetsRecv: 10, bytesSent: 1000, packetsSent: 10 });
  for (const r of rates.values()) for (const v of Object.values(r)) t.true(v >= 0);
  t.is(counterRates(parseNetDev(fixture("net-dev-a.txt")), parseNetDev(fixture("net-dev-b.txt")), 0).size, 0);
});

test("/proc/diskstats: whole physical disks only", (t) => {
  const a = parseDiskstats(fixture("diskstats-a.txt"));
  t.deepEqual([...a.keys()], ["nvme0n1", "sda", "sdaa", "mmcblk0"]);
  t.deepEqual(a.get("nvme0n1"), { readBytes: 2_000_000 * 512, writeBytes: 4_000_000 * 512 });
});

test("/proc/diskstats: partitions are kept when their disk is not visible", (t) => {
  t.deepEqual([...parseDiskstats(fixture("diskstats-partitions-only.txt")).keys()], ["sda1", "sda2"]);
});

test("disk io rates: bytes per second; a reset counter or a new device gives no rate", (t) => {
  const rates = counterRates(parseDiskstats(fixture("diskstats-a.txt")), parseDiskstats(fixture("diskstats-b.txt")), 2);
  t.deepEqual(rates.get("nvme0n1"), { readBytes: 524_288, writeBytes: 2_621_440 });
  t.false(rates.has("sda")); // counters went backwards (device re-attached)
  t.false(rates.has("sdb")); // new: no baseline yet
  t.deepEqual(rates.get("sdaa"), { readBytes: 0, writeBytes: 0 });
});

test("/proc/loadavg and /proc/uptime", (t) => {
  t.deepEqual(parseLoadavg(fixture("loadavg.txt")), { load1: 0.52, load5: 0.58, load15: 0.59 });
  t.is(parseUptime(fixture("uptime.txt")), 350_735);
  t.throws(() => parseLoadavg("garbage"));
  t.throws(() => parseUptime(""));
});

test("os-release: PRETTY_NAME, else NAME VERSION", (t) => {
  t.is(parseOsRelease(fixture("os-release.txt")), "Ubuntu 22.04.4 LTS");
  t.is(parseOsRelease(fixture("os-release-no-pretty.txt")), "Alpine Linux 3.19");
  t.is(parseOsRelease("ID=x\n"), undefined);
});
