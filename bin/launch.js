// Runs a TypeScript entry point of tsmon. Under `node --import tsx` (as PM2 starts it,
// so cluster mode keeps working) the entry is imported in this process; otherwise node is
// started again with tsx registered, signals are passed on and its exit code is ours.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export async function launch(entryUrl) {
  const entry = fileURLToPath(entryUrl);
  if (process.execArgv.some((arg) => arg.includes("tsx"))) {
    await import(entryUrl.href);
    return;
  }
  const tsx = createRequire(import.meta.url).resolve("tsx");
  const child = spawn(process.execPath, ["--import", tsx, entry, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
