import type { ExecutionContext } from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ControlStore } from "../../server/storage/control-store.ts";

/** A control store in a fresh temp dir, closed and deleted when the test ends. */
export function tempControlStore(t: ExecutionContext): { dir: string; control: ControlStore } {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-control-"));
  const control = new ControlStore(dir);
  t.teardown(async () => {
    await control.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, control };
}
