import childProcess, { ChildProcess } from "node:child_process";
import { syncBuiltinESMExports } from "node:module";

/**
 * Counts the child processes this process starts from now on, for the benchmark and the
 * tests that prove collection spawns none. Every asynchronous way (spawn, exec, execFile,
 * fork) goes through ChildProcess.prototype.spawn, counted once per process; the
 * synchronous ones are wrapped on the module object, and ESM bindings re-synced so that
 * `import { execSync } from "node:child_process"` sees the wrapper too. Code that copied
 * a sync function before this ran (a CommonJS module that did
 * `const { execSync } = require("child_process")`) is not seen: install it first.
 */
export function countChildProcesses(): { count(): number; restore(): void } {
  let spawned = 0;
  const proto = ChildProcess.prototype as unknown as { spawn: (...args: unknown[]) => unknown };
  const originalSpawn = proto.spawn;
  proto.spawn = function (this: unknown, ...args: unknown[]) {
    spawned++;
    return originalSpawn.apply(this, args);
  };
  const cp = childProcess as unknown as Record<string, (...args: unknown[]) => unknown>;
  const syncNames = ["spawnSync", "execSync", "execFileSync"] as const;
  const originals = syncNames.map((name) => cp[name]!);
  syncNames.forEach((name, i) => {
    cp[name] = function (this: unknown, ...args: unknown[]) {
      spawned++;
      return originals[i]!.apply(this, args);
    };
  });
  syncBuiltinESMExports();
  return {
    count: () => spawned,
    restore() {
      proto.spawn = originalSpawn;
      syncNames.forEach((name, i) => (cp[name] = originals[i]!));
      syncBuiltinESMExports();
    },
  };
}
