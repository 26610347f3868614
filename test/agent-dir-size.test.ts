import test from "ava";
import { execFileSync } from "node:child_process";
import { linkSync, mkdirSync, mkdtempSync, promises as fsp, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { collectBatch } from "../agent/collect-batch.ts";
import { createDirSizeCollector } from "../agent/collectors/dir-size.ts";
import { walkDirectory } from "../agent/collectors/dir-walk.ts";

/** A temp tree: 3 levels, 60 files of 10 KiB, one hard link, one symlink. */
function tree(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), "tsmon-walk-"));
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 4; b++) {
      const dir = path.join(root, `a${a}`, `b${b}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 5; f++) writeFileSync(path.join(dir, `f${f}`), Buffer.alloc(10 * 1024, 1));
    }
  }
  linkSync(path.join(root, "a0", "b0", "f0"), path.join(root, "hard-link"));
  execFileSync("ln", ["-s", "/usr", path.join(root, "symlink")]);
  return root;
}

test("the walk sizes a tree as du -s -B1 -x does: allocated bytes, hard links once, symlinks not followed", async (t) => {
  const root = tree();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const result = await walkDirectory(root, { maxFiles: 1_000_000, maxSeconds: 60 });
  const du = Number(execFileSync("du", ["-s", "-B1", "-x", root], { encoding: "utf8" }).split(/\s/)[0]);
  t.is(result.bytes, du);
  t.true(result.complete);
  t.is(result.files, 1 + 3 + 12 + 60 + 2);
  t.is(result.unreadable, 0);
  t.true(result.bytes >= 60 * 10 * 1024);
});

test("the walk stops at its file bound and at its time bound, and says so", async (t) => {
  const root = tree();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const byFiles = await walkDirectory(root, { maxFiles: 10, maxSeconds: 60 });
  t.false(byFiles.complete);
  t.is(byFiles.files, 10);
  let clock = 0;
  const byTime = await walkDirectory(root, { maxFiles: 1_000_000, maxSeconds: 1, monotonicMs: () => (clock += 100) });
  t.false(byTime.complete);
  t.true(byTime.files < 20, `${byTime.files} entries in 1 s of a clock that moves 100 ms per look`);
  await t.throwsAsync(walkDirectory(path.join(root, "missing"), { maxFiles: 10, maxSeconds: 1 }), { code: "ENOENT" });
});

test("collection does not wait for a walk: the fast collectors return while it runs; its last figures repeat until the next walk", async (t) => {
  const root = tree();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  // Every lstat waits for the gate: the walk cannot end before the test opens it.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let walkEnded = false;
  const slowLstat = async (p: string) => { await gate; await sleep(5); return fsp.lstat(p); };
  const notices: string[] = [];
  const slow = createDirSizeCollector({ paths: [root], intervalSecs: 300, maxFiles: 1_000_000, maxSeconds: 60, lstat: slowLstat, notice: (m) => notices.push(m) });
  const fast = { name: "fast", collect: (now: number) => [{ timestampMs: now, metric: "cpu.usage", value: 1, labels: {} }] };

  const first = await collectBatch([fast, slow], { agentId: "a", timestampMs: 1_000, onError: (_, e) => t.fail(String(e)) });
  void slow.idle().then(() => (walkEnded = true));
  await sleep(50);
  t.false(walkEnded, "the batch came while the walk runs");
  t.deepEqual(first!.points.map((p) => p.metric), ["cpu.usage"], "no size before the first walk ends");

  open();
  await slow.idle();
  const second = slow.collect(2_000);
  t.deepEqual(second.map((p) => [p.metric, p.labels.path]), [["docker.dir_bytes", root], ["docker.dir_walk_seconds", root]]);
  const bytes = second[0]!.value;
  t.true(second[1]!.value >= 0.3, `walk seconds ${second[1]!.value}`);

  // Within the interval: the same figures, no new walk even though the tree grew.
  writeFileSync(path.join(root, "new"), Buffer.alloc(1024 * 1024, 1));
  const third = slow.collect(200_000);
  t.is(third[0]!.value, bytes);
  await slow.idle();
  // Past the interval: a new walk starts, and its figures replace the old ones when it ends.
  t.is(slow.collect(302_000)[0]!.value, bytes, "the old figure until the new walk ends");
  await slow.idle();
  t.true(slow.collect(303_000)[0]!.value >= bytes + 1024 * 1024);
  t.deepEqual(notices, []);
});

test("a missing path and a walk cut short are each told once; no path, no walk", async (t) => {
  const root = tree();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const notices: string[] = [];
  const c = createDirSizeCollector({ paths: [path.join(root, "missing"), root], intervalSecs: 0, maxFiles: 5, maxSeconds: 60, notice: (m) => notices.push(m) });
  for (let i = 0; i < 3; i++) {
    c.collect(i);
    await c.idle();
  }
  t.is(notices.length, 2);
  t.regex(notices[0]!, /missing: cannot size it .*check slow_paths/);
  t.regex(notices[1]!, /stopped at 5 entries .*raise them/);
  t.deepEqual(c.collect(10).map((p) => p.labels.path), [root, root], "a partial size is still reported");
  t.deepEqual(createDirSizeCollector({ paths: [], intervalSecs: 1, maxFiles: 1, maxSeconds: 1 }).collect(1), []);
});
