import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { parse } from "yaml";
import { ALLOCATOR_ENV } from "../server/config/process-env.ts";
import { spawnServer, writeServerConfig } from "../scripts/lib/server-process.ts";

/*
 * Every launcher the project ships starts the server with the glibc malloc settings
 * (ALLOCATOR_ENV): glibc reads them only at process start, so the server cannot set them
 * itself. install.sh's PM2 file is checked in release.test.ts, `npm start` uses the constant.
 */
const root = new URL("..", import.meta.url).pathname;
const read = (file: string) => readFileSync(`${root}${file}`, "utf8");
const pairs = Object.entries(ALLOCATOR_ENV);

test("the systemd unit sets them in Environment=", (t) => {
  const assigned = read("deploy/systemd/tsmon-server.service").split("\n").filter((l) => l.startsWith("Environment=")).flatMap((l) => l.slice("Environment=".length).split(" "));
  for (const [name, value] of pairs) t.true(assigned.includes(`${name}=${value}`), `${name}=${value} in ${assigned.join(" ")}`);
});

test("the server image sets them with ENV", (t) => {
  const env = /^ENV ((?:.*\\\n)*.*)$/m.exec(read("Dockerfile.server"))![1]!.split(/\s*\\\n\s*/).map((s) => s.trim());
  for (const [name, value] of pairs) t.true(env.includes(`${name}=${value}`), `${name}=${value} in ${env.join(" ")}`);
});

test("the PM2 ecosystem file gives them to the server, not the agent", (t) => {
  const { apps } = createRequire(import.meta.url)(`${root}ecosystem.config.cjs`) as { apps: { name: string; env?: Record<string, string> }[] };
  t.deepEqual(apps.find((a) => a.name === "tsmon-server")!.env, ALLOCATOR_ENV);
  t.is(apps.find((a) => a.name === "tsmon-agent")!.env, undefined);
});

test("the Helm chart's default server env has them", (t) => {
  const values = parse(read("deploy/helm/tsmon/values.yaml")) as { server: { env: Record<string, string> } };
  t.like(values.server.env, ALLOCATOR_ENV);
});

test("a server started without them says so once at start, naming them; with them it says nothing", async (t) => {
  t.timeout(180_000);
  const started = async (env: Record<string, string | undefined>) => {
    const dir = mkdtempSync(path.join(tmpdir(), "tsmon-launcher-env-"));
    try {
      const config = await writeServerConfig(dir, { logLevel: "info" });
      const server = await spawnServer(config.file, config.ports, env);
      server.child.kill("SIGKILL");
      await server.exited;
      return server.output().split("\n").filter((line) => line.includes("MALLOC_"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // Unset, whatever the test runner's own environment has (an empty MALLOC_MMAP_THRESHOLD_
  // would be 0: every allocation its own map).
  const without = await started(Object.fromEntries(pairs.map(([name]) => [name, undefined])));
  const withEnv = await started(ALLOCATOR_ENV);
  t.is(without.length, 1, without.join("\n"));
  t.regex(without[0]!, /started without MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_.*MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072/);
  t.deepEqual(withEnv, []);
});
