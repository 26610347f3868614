import test, { type ExecutionContext } from "ava";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { FakeReceiver } from "./helpers/fake-receiver.ts";

/*
 * The deployable agent: scripts/build-agent.mjs bundles it into a temporary directory,
 * and plain node (no tsx, no node_modules beside it) runs it against a fake receiver.
 */

const root = new URL("..", import.meta.url).pathname;
const run = promisify(execFile);

/** A fresh build in a temporary directory (each test its own: one of them deletes chunks), removed after the test. */
async function build(t: ExecutionContext): Promise<{ dir: string; entry: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-agent-bundle-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await run(process.execPath, [path.join(root, "scripts/build-agent.mjs"), "--outdir", dir]);
  return { dir, entry: path.join(dir, "tsmon-agent.mjs") };
}

/** Chunks the entry imports statically: all that a Linux agent may load. */
function staticChunks(file: string): Set<string> {
  const source = readFileSync(file, "utf8");
  return new Set([...source.matchAll(/\bfrom\s*"\.\/chunks\/([^"]+\.mjs)"/g)].map((m) => m[1]!));
}

test("the bundle reports to a receiver with plain node, never loads the non-Linux chunks, and exits 0 on SIGTERM", async (t) => {
  const { dir, entry } = await build(t);
  // Remove what only other platforms import (systeminformation): a Linux agent must not need it.
  const needed = staticChunks(entry);
  const lazy = readdirSync(path.join(dir, "chunks")).filter((f) => f.endsWith(".mjs") && !needed.has(f));
  t.true(lazy.length > 0, "systeminformation should sit in a chunk of its own");
  for (const f of lazy) rmSync(path.join(dir, "chunks", f));

  const receiver = await FakeReceiver.start();
  t.teardown(() => receiver.stop());
  const agent = spawn(process.execPath, [entry, "--server-url", receiver.address, "--interval", "0.2", "--agent-id", "bundled", "--spool-dir", path.join(dir, "spool")],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => agent.on("exit", (code, signal) => resolve({ code, signal })));
  t.teardown(() => {
    if (agent.exitCode === null && agent.signalCode === null) process.kill(agent.pid!, "SIGKILL");
  });
  let stdout = "";
  let stderr = "";
  agent.stdout.on("data", (chunk) => (stdout += chunk));
  agent.stderr.on("data", (chunk) => (stderr += chunk));

  await receiver.waitFor(() => receiver.accepted.length >= 2 || agent.exitCode !== null, 30_000, "two batches from the bundled agent");
  t.is(agent.exitCode, null, `the agent exited early:\n${stdout}${stderr}`);
  const [first] = receiver.accepted;
  t.is(first!.metadata["agent-id"], "bundled");
  t.is(first!.batch.agent_id, "bundled");
  t.true(first!.batch.data_points.some((p) => p.metric_name === "cpu.usage"));
  // The version is built in: no package.json sits beside the bundle.
  const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
  t.is(first!.batch.system_info?.agent_version, version);

  agent.kill("SIGTERM");
  t.deepEqual(await exited, { code: 0, signal: null }, stderr);
  t.regex(stdout, /"msg":"agent stopped"/);
  t.is(stderr, "");
});

test("the bundle prints --help and exits 0; a bad configuration exits 2", async (t) => {
  const { dir, entry } = await build(t);
  const help = await run(process.execPath, [entry, "--help"], { cwd: dir });
  t.regex(help.stdout, /^Usage: tsmon-agent \[CONFIG\] \[flags\]/);
  const bad = await run(process.execPath, [entry, "--interval", "0"], { cwd: dir }).then(() => undefined, (err: { code: number; stderr: string }) => err);
  t.is(bad?.code, 2);
  t.regex(bad?.stderr ?? "", /--interval: Too small/);
});

test("the chunk other platforms load (systeminformation) works from the bundle directory", async (t) => {
  const { dir } = await build(t);
  const chunk = readdirSync(path.join(dir, "chunks")).find((f) => /^portable-.*\.mjs$/.test(f));
  t.truthy(chunk, "the portable collectors should sit in a chunk of their own");
  const { createPortableCollectors } = await import(pathToFileURL(path.join(dir, "chunks", chunk!)).href) as typeof import("../agent/collectors/portable.ts");
  const collectors = await createPortableCollectors();
  const points = (await Promise.all(collectors.map((c) => c.collect(Date.now())))).flat();
  t.true(points.some((p) => p.metric === "memory.total" && p.value > 0));
  t.true(points.some((p) => p.metric === "load.uptime"));
});
