import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import type { BundleSlot, UpdateFiles, UpdateState } from "./state.ts";
import { readTarGz, writeFiles } from "./untar.ts";

/**
 * Puts a verified bundle beside the others and makes it current, on trial: unpacked under a
 * temporary name and renamed whole (a half-written bundle is never visible), then the state
 * swapped in one rename. The running bundle becomes `previous`, the rollback target.
 */
export function installBundle(files: UpdateFiles, version: string, bundle: Buffer, running: BundleSlot, failed: UpdateState["failed"]): void {
  const entries = readTarGz(bundle);
  if (!entries.some((e) => e.name === "tsmon-agent.mjs")) throw new Error("the bundle has no tsmon-agent.mjs at its top: not an agent bundle (npm run build:agent -- --pack makes one)");
  mkdirSync(files.bundles, { recursive: true });
  const incoming = path.join(files.bundles, `.incoming-${version}-${randomBytes(4).toString("hex")}`);
  const target = files.bundleDir(version);
  try {
    writeFiles(incoming, entries);
    // A leftover of an earlier attempt at this version (never the running one: it is newer).
    rmSync(target, { recursive: true, force: true });
    renameSync(incoming, target);
  } catch (err) {
    rmSync(incoming, { recursive: true, force: true });
    throw err;
  }
  files.write({ current: version, previous: running, trial: { version }, ...(failed ? { failed } : {}) });
}
