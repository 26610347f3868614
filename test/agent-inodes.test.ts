import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDiskCollector } from "../agent/collectors/disk.ts";
import { inodeUsage } from "../agent/proc/parse-mounts.ts";

const byMount = (points: { metric: string; labels: Record<string, string>; value: number }[], metric: string) =>
  new Map(points.filter((p) => p.metric === metric).map((p) => [p.labels.mount!, p.value]));

test("inodes as df -i counts them: used = files - ffree; none where the file system reports no inodes", (t) => {
  t.deepEqual(inodeUsage({ bsize: 4096, blocks: 10, bfree: 5, bavail: 5, files: 16_777_216, ffree: 16_267_888 }), { total: 16_777_216, used: 509_328 });
  t.is(inodeUsage({ bsize: 4096, blocks: 10, bfree: 5, bavail: 5, files: 0, ffree: 0 }), undefined, "btrfs, vfat: no inode table");
  t.is(inodeUsage({ bsize: 4096, blocks: 10, bfree: 5, bavail: 5 }), undefined);
  t.deepEqual(inodeUsage({ bsize: 4096, blocks: 10, bfree: 5, bavail: 5, files: 100, ffree: 250 }), { total: 100, used: 0 }, "never negative");
});

test("on this machine: each mount's inode figures match statfs and df -i", async (t) => {
  if (process.platform !== "linux") return t.pass("Linux only");
  const points = await createDiskCollector().collect(Date.now());
  const totals = byMount(points, "disk.inodes_total"), used = byMount(points, "disk.inodes_used"), pct = byMount(points, "disk.inodes_used_percent");
  t.true(totals.size > 0, "at least one mount has inodes");
  t.deepEqual([...used.keys()], [...totals.keys()]);
  t.deepEqual([...pct.keys()], [...totals.keys()]);
  for (const [mount, total] of totals) {
    const s = statfsSync(mount);
    t.is(total, s.files, mount);
    // Files come and go between the two calls on a live system.
    t.true(Math.abs(used.get(mount)! - (s.files - s.ffree)) < 1_000, `${mount}: ${used.get(mount)} vs ${s.files - s.ffree}`);
    t.is(pct.get(mount), Math.round((used.get(mount)! / total) * 10_000) / 100, mount);
  }
  const dfText = (() => { try { return execFileSync("df", ["-i", "-P", "/"], { encoding: "utf8" }); } catch { return undefined; } })();
  if (dfText && totals.has("/")) {
    const [, inodes, iused] = dfText.trim().split("\n").at(-1)!.split(/\s+/);
    t.is(totals.get("/"), Number(inodes), "df -i's Inodes for /");
    t.true(Math.abs(used.get("/")! - Number(iused)) < 1_000, "df -i's IUsed for /");
  }
});

test("files created in a temp dir move its inodes in use", async (t) => {
  if (process.platform !== "linux") return t.pass("Linux only");
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-inodes-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const before = statfsSync(dir);
  if (before.files === 0) return t.pass("the temp dir's file system has no inode table");
  for (let i = 0; i < 200; i++) writeFileSync(path.join(dir, `f${i}`), "");
  const after = statfsSync(dir);
  t.true(after.ffree < before.ffree, "200 files take inodes");
  t.true(inodeUsage(after)!.used > inodeUsage(before)!.used);
});
