import test from "ava";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createGpuCollector, findOnPath } from "../agent/collectors/gpu.ts";
import { parseNvidiaSmi } from "../agent/proc/parse-nvidia-smi.ts";

const fixtures = new URL("../agent/proc/fixtures/", import.meta.url).pathname;
const fixture = (name: string) => readFileSync(path.join(fixtures, name), "utf8");
const MIB = 1024 * 1024;

test("one GPU", (t) => {
  t.deepEqual(parseNvidiaSmi(fixture("nvidia-smi-one.txt")), [
    { index: "0", name: "NVIDIA GeForce RTX 3090", usage: 37, memoryUsedBytes: 8123 * MIB, memoryTotalBytes: 24576 * MIB, temperature: 56, powerWatts: 114.27 },
  ]);
});

test("several GPUs, in index order", (t) => {
  const gpus = parseNvidiaSmi(fixture("nvidia-smi-several.txt"));
  t.deepEqual(gpus.map((g) => g.index), ["0", "1", "2", "3"]);
  t.deepEqual(gpus.map((g) => g.usage), [100, 98, 0, 0]);
  t.deepEqual(gpus.map((g) => g.powerWatts), [287.43, 279.1, 52.86, 54.02]);
  t.true(gpus.every((g) => g.name === "NVIDIA A100-SXM4-40GB" && g.memoryTotalBytes === 40960 * MIB));
});

test("[N/A] and [Not Supported] fields are left undefined, not 0", (t) => {
  t.deepEqual(parseNvidiaSmi(fixture("nvidia-smi-na.txt")), [
    { index: "0", name: "NVIDIA GeForce GT 710", usage: undefined, memoryUsedBytes: 289 * MIB, memoryTotalBytes: 2001 * MIB, temperature: 40, powerWatts: undefined },
    { index: "1", name: "Quadro K620", usage: undefined, memoryUsedBytes: 3 * MIB, memoryTotalBytes: 2000 * MIB, temperature: 36, powerWatts: undefined },
  ]);
});

test("a name with a comma, blank lines, and a line that is no GPU", (t) => {
  t.is(parseNvidiaSmi("\n0, Tesla K80, rev 2, 5, 10, 100, 30, 25.5\n\n")[0]!.name, "Tesla K80, rev 2");
  t.deepEqual(parseNvidiaSmi(""), []);
  t.throws(() => parseNvidiaSmi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."), { message: /line 1 is not "index, name/ });
});

function fakeBin(script: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-gpu-"));
  const file = path.join(dir, "nvidia-smi");
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return dir;
}

test("the collector runs nvidia-smi from the PATH and reports each GPU's figures under its index and name", async (t) => {
  const dir = fakeBin(`cat '${path.join(fixtures, "nvidia-smi-na.txt")}'`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.is(findOnPath("nvidia-smi", dir), path.join(dir, "nvidia-smi"));
  const points = await createGpuCollector({ searchPath: dir }).collect(42);
  t.deepEqual(points.map((p) => [p.metric, p.labels, p.value, p.timestampMs]), [
    ["gpu.memory_used", { gpu: "0", name: "NVIDIA GeForce GT 710" }, 289 * MIB, 42],
    ["gpu.memory_total", { gpu: "0", name: "NVIDIA GeForce GT 710" }, 2001 * MIB, 42],
    ["gpu.temperature", { gpu: "0", name: "NVIDIA GeForce GT 710" }, 40, 42],
    ["gpu.memory_used", { gpu: "1", name: "Quadro K620" }, 3 * MIB, 42],
    ["gpu.memory_total", { gpu: "1", name: "Quadro K620" }, 2000 * MIB, 42],
    ["gpu.temperature", { gpu: "1", name: "Quadro K620" }, 36, 42],
  ]);
});

test("no nvidia-smi: no series and one notice; a hung one is killed after the timeout", async (t) => {
  const notices: string[] = [];
  const none = createGpuCollector({ searchPath: "/nonexistent", notice: (m) => notices.push(m) });
  t.deepEqual(await none.collect(1), []);
  t.deepEqual(await none.collect(2), []);
  t.is(notices.length, 1);
  t.regex(notices[0]!, /no nvidia-smi on the PATH/);

  const dir = fakeBin("exec sleep 10");
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const started = Date.now();
  const hung = createGpuCollector({ searchPath: dir, timeoutMs: 200 });
  await t.throwsAsync(async () => hung.collect(3), { message: /killed after 200 ms/ });
  t.true(Date.now() - started < 3_000);

  const noDevices = fakeBin("echo 'No devices were found'; exit 6");
  t.teardown(() => rmSync(noDevices, { recursive: true, force: true }));
  t.deepEqual(await createGpuCollector({ searchPath: noDevices }).collect(4), []);
});
