import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * Starts a worker thread from a module URL. Under tsx a worker's entry module cannot be
 * .ts (the loader hooks are not yet registered when it resolves), so a .ts entry is
 * reached through a one-line bootstrap that registers tsx first.
 */
export function spawnWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith(".ts")) return new Worker(entry, options);
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(entry.href)}))`;
  return new Worker(bootstrap, { ...options, eval: true });
}
