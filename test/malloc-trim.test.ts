import { execFileSync } from "node:child_process";
import test from "ava";
import { ALLOCATOR_ENV } from "../server/config/process-env.ts";
import { mallocTrimUnavailable } from "../server/actors/runtime/malloc-trim.ts";

/*
 * trimMalloc gives the C heap's free pages back: what glibc keeps after a burst (native
 * buffers freed between live ones) stays resident without it. Each case in a fresh process,
 * with the launchers' malloc settings.
 */
const child = new URL("./fixtures/malloc-trim-child.ts", import.meta.url).pathname;

function run(...args: string[]): { held: number; freed: number; after: number } {
  return JSON.parse(execFileSync(process.execPath, ["--import", "tsx", child, ...args], { env: { ...process.env, ...ALLOCATOR_ENV }, timeout: 60_000 }).toString());
}

// Where the trim cannot run (not glibc, no koffi build) the server does without: said, not failed.
const unavailable = mallocTrimUnavailable();
if (unavailable) console.warn(`[malloc-trim.test] skipped: ${unavailable}`);
const glibcTest = unavailable ? test.skip : test;

glibcTest("freed native buffers between live ones stay resident until trimMalloc gives them back", (t) => {
  const without = run();
  const trimmed = run("trim");
  t.log(`anon MiB: without trim ${without.held.toFixed(0)} → ${without.after.toFixed(0)}; with ${trimmed.held.toFixed(0)} → ${trimmed.after.toFixed(0)}`);
  // 120 of the 128 MiB are freed: without the trim most of it stays, with it most goes.
  t.true(without.held - without.after < 40, "glibc keeps the freed buffers on its own");
  t.true(trimmed.held - trimmed.after > 80, "trimMalloc returned them");
});
