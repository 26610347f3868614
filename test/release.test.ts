import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { freePort } from "../scripts/lib/ports.ts";
// @ts-expect-error: a plain .mjs module without types
import { release } from "../scripts/release.mjs";
import { ALLOCATOR_ENV } from "../server/config/process-env.ts";

/*
 * The shipped path, end to end: `npm run release` builds a tarball; scripts/install.sh puts
 * server and agent into a temporary root from it; both run with plain node (no tsx), the
 * agent reports; a second install changes nothing; the generated systemd units verify; an
 * agent installs from the server's own /install.sh and /download.
 */

const root = new URL("..", import.meta.url).pathname;
const work = mkdtempSync(path.join(tmpdir(), "tsmon-release-test-"));
const children: ChildProcess[] = [];
test.after.always(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) { const e = new Promise((r) => c.once("exit", r)); c.kill("SIGTERM"); await e; }
  rmSync(work, { recursive: true, force: true });
});

// install.sh's command wrappers run `node` from the PATH: the node running this test.
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` };

function sh(cmd: string, args: string[], options: { input?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { cwd: options.cwd ?? root, env: { ...env, ...options.env }, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr }));
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** Every file under `dir` (symlinks as their target), with size, mtime and a content hash. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.name === "releases") { out[p] = readdirSync(p).join(","); continue; } // the unpacked tree: its presence is enough
      if (e.isSymbolicLink()) out[p] = `-> ${readlinkSync(p)}`;
      else if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out[p] = `${s.size} ${s.mtimeMs} ${s.mode} ${createHash("sha256").update(readFileSync(p)).digest("hex")}`;
      }
    }
  };
  walk(dir);
  return out;
}

let built: Promise<{ tarball: string; sha256: string; name: string; version: string }> | undefined;
const build = () => (built ??= release({ outDir: path.join(work, "dist") }));

function installArgs(r: string): string[] {
  return ["--install-dir", `${r}/opt/tsmon`, "--bin-dir", `${r}/bin`, "--config-dir", `${r}/etc/tsmon`, "--systemd-dir", `${r}/systemd`, "--user", "root", "--setup-systemd", "--no-start"];
}

function startProcess(cmd: string, args: string[], extraEnv: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  return { child, output: () => out };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, output: () => string): Promise<T> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(250);
  }
  throw new Error(`${what}: not within 120 s\n${output()}`);
}

test.serial("npm run release: a versioned tarball with its sha256, compiled JavaScript, no tsx", async (t) => {
  const { tarball, sha256, name, version } = await build();
  t.is(path.basename(tarball), `tsmon-${version}-${process.platform}-${process.arch}.tar.gz`);
  t.is(readFileSync(`${tarball}.sha256`, "utf8"), `${createHash("sha256").update(readFileSync(tarball)).digest("hex")}  ${path.basename(tarball)}\n`);
  t.is(sha256.length, 64);
  const list = (await sh("tar", ["-tzf", tarball])).stdout.split("\n");
  for (const f of ["bin/tsmon-server.js", "bin/tsmon-agent.js", "server/main.js", "server/actors/ingest/ingest.worker.js", "dist/tsmon-agent.mjs", "dist/tsmon-agent-launcher.mjs",
    "config/server.example.toml", "config/agent.example.toml", "LICENSE", "scripts/install.sh", "deploy/systemd/tsmon-agent.service", "proto/metrics.proto"]) {
    t.true(list.includes(`${name}/${f}`), f);
  }
  t.false(list.some((f) => f.startsWith(`${name}/node_modules/tsx/`) || f.startsWith(`${name}/node_modules/typescript/`)), "no tsx or typescript");
  t.false(list.some((f) => /^[^/]+\/(server|agent|common)\/.*\.ts$/.test(f)), "no TypeScript sources");
});

test.serial("install.sh into a temporary root: server and agent run with plain node and the agent reports; a second run changes nothing; units verify; an agent installs from the server", async (t) => {
  const { tarball, version } = await build();
  const r = path.join(work, "root");
  const grpc = await freePort(), http = await freePort();
  const server = await sh("bash", [path.join(root, "scripts/install.sh"), "server", "--from", tarball, "--data-dir", `${r}/var/lib/tsmon`, ...installArgs(r)]);
  t.is(server.code, 0, server.stderr);
  t.regex(server.stdout, /\[done\] unpacked release/);
  t.regex(server.stdout, /next:\n {2}systemctl status tsmon-server/);
  const agent = await sh("bash", [path.join(root, "scripts/install.sh"), "agent", "--from", tarball, "--server-endpoint", `http://127.0.0.1:${grpc}`, "--agent-id", "installed-agent", ...installArgs(r)]);
  t.is(agent.code, 0, agent.stderr);
  t.regex(readFileSync(`${r}/etc/tsmon/agent.toml`, "utf8"), /^agent_id = "installed-agent"$/m);
  t.regex(readFileSync(`${r}/etc/tsmon/server.toml`, "utf8"), new RegExp(`^data_dir = "${r}/var/lib/tsmon"$`, "m"));

  // Idempotent: the same commands again change no file and say so.
  const before = snapshot(r);
  for (const again of [
    ["server", "--from", tarball, "--data-dir", `${r}/var/lib/tsmon`],
    ["agent", "--from", tarball, "--server-endpoint", `http://127.0.0.1:${grpc}`, "--agent-id", "installed-agent"],
  ]) {
    const second = await sh("bash", [path.join(root, "scripts/install.sh"), ...again, ...installArgs(r)]);
    t.is(second.code, 0, second.stderr);
    t.notRegex(second.stdout, /\[done\]/, second.stdout);
  }
  t.deepEqual(snapshot(r), before, "a second run changes nothing");

  if (existsSync("/usr/bin/systemd-analyze") || existsSync("/bin/systemd-analyze")) {
    const verify = await sh("systemd-analyze", ["verify", `${r}/systemd/tsmon-server.service`, `${r}/systemd/tsmon-agent.service`]);
    t.is(verify.code, 0, verify.stderr);
    t.is(verify.stderr.trim(), "", "no warnings");
  } else {
    t.log("systemd-analyze is absent: the units were not verified (apt-get install -y systemd)");
  }

  // The installed commands, plain node; ports from the environment so the test runs beside anything on 8080.
  const srv = startProcess(`${r}/bin/tsmon-server`, [`${r}/etc/tsmon/server.toml`], {
    TSMON_HTTP_PORT: String(http), TSMON_GRPC_PORT: String(grpc), TSMON_BIND_ADDRESS: "127.0.0.1", TSMON_LOG_FORMAT: "json",
  });
  const api = `http://127.0.0.1:${http}`;
  await until("server health", () => fetch(`${api}/v1/health`).then((res) => (res.ok ? true : undefined)), srv.output);
  const page = await fetch(`${api}/`);
  t.is(page.status, 200, "the dashboard is served from the release");
  t.regex(await page.text(), /<script[^>]+src="\/assets\//);
  const password = await until("the framed admin password", async () => /with the password {3}(\S+)\n/.exec(srv.output())?.[1], srv.output);
  const ag = startProcess(`${r}/bin/tsmon-agent`, [`${r}/etc/tsmon/agent.toml`], { TSMON_AGENT_COLLECTION_INTERVAL_SECS: "1" });
  const token = ((await (await fetch(`${api}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password }) })).json()) as { token: string }).token;
  const agents = await until("the installed agent's report", async () => {
    const list = (await (await fetch(`${api}/v1/agents`, { headers: { authorization: `Bearer ${token}` } })).json()) as { agent_id: string; system_info?: { agentVersion?: string } }[];
    return list.some((a) => a.agent_id === "installed-agent") ? list : undefined;
  }, () => `${srv.output()}\n${ag.output()}`);
  t.is(agents.find((a) => a.agent_id === "installed-agent")!.system_info?.agentVersion, version);
  t.notRegex(srv.output() + ag.output(), /tsx/, "nothing ran through tsx");

  // The server serves the install script and its release: an agent installs from it alone.
  const script = await (await fetch(`${api}/install.sh`)).text();
  t.is(script, readFileSync(path.join(root, "scripts/install.sh"), "utf8"));
  const served = Buffer.from(await (await fetch(`${api}/download/tsmon-linux-x64.tar.gz`)).arrayBuffer());
  t.true(served.equals(readFileSync(tarball)), "the tarball the server was installed from");
  t.is((await fetch(`${api}/download/tsmon-9.9.9-linux-x64.tar.gz`)).status, 404, "another version is not here");
  const r2 = path.join(work, "root2");
  const fromServer = await sh("bash", ["-s", "--", "agent", "--server-endpoint", `http://127.0.0.1:${grpc}`, "--server-http-port", String(http), "--agent-id", "second", ...installArgs(r2)], { input: script });
  t.is(fromServer.code, 0, fromServer.stderr);
  t.regex(fromServer.stdout, new RegExp(`unpacked release ${version.replaceAll(".", "\\.")}`));
});

test.serial("install.sh refuses bad input plainly: no component, an unknown option, a missing tarball", async (t) => {
  const none = await sh("bash", [path.join(root, "scripts/install.sh")]);
  t.is(none.code, 2);
  t.regex(none.stderr, /first argument must be 'server' or 'agent'/);
  const unknown = await sh("bash", [path.join(root, "scripts/install.sh"), "agent", "--colour"]);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown option: --colour/);
  const missing = await sh("bash", [path.join(root, "scripts/install.sh"), "server", "--from", "/nonexistent.tar.gz", ...installArgs(path.join(work, "root3"))]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /--from \/nonexistent.tar.gz: no such file/);
  const noFrom = await sh("bash", [path.join(root, "scripts/install.sh"), "server", ...installArgs(path.join(work, "root3"))]);
  t.regex(noFrom.stderr, /--from FILE\|URL is needed for the server/);
});

test.serial("install.sh --setup-pm2 starts the server under the release's PM2 in cluster mode; a second run reloads it, no duplicate", async (t) => {
  const { tarball } = await build();
  const r = path.join(work, "pm2start");
  const grpc = await freePort(), http = await freePort();
  // A PM2 daemon of this test's own (its home in the temp root), started by install.sh with
  // this environment: the apps it runs take their ports from it.
  const pm2Env = { PM2_HOME: `${r}/pm2`, TSMON_HTTP_PORT: String(http), TSMON_GRPC_PORT: String(grpc), TSMON_BIND_ADDRESS: "127.0.0.1" };
  const args = [path.join(root, "scripts/install.sh"), "server", "--from", tarball, "--setup-pm2", "--install-dir", `${r}/opt`, "--config-dir", `${r}/etc`, "--bin-dir", `${r}/bin`, "--data-dir", `${r}/data`];
  const pm2 = (...a: string[]) => sh(`${r}/opt/current/node_modules/.bin/pm2`, a, { env: pm2Env });
  try {
    const first = await sh("bash", args, { env: pm2Env });
    t.is(first.code, 0, first.stderr);
    t.regex(first.stdout, /\[done\] started tsmon-server under PM2/);
    t.regex(first.stdout, /next:\n {2}pm2 status; pm2 logs tsmon-server/);
    const health = await until("the server under PM2 answering /v1/health", () => fetch(`http://127.0.0.1:${http}/v1/health`).then((res) => (res.ok ? true : undefined)),
      () => readdirSync(`${r}/pm2/logs`).map((f) => readFileSync(`${r}/pm2/logs/${f}`, "utf8")).join("\n"));
    t.true(health);
    const list = async () => JSON.parse((await pm2("jlist")).stdout) as { name: string; pm2_env: { status: string; exec_mode: string } }[];
    const apps = await list();
    t.deepEqual(apps.map((a) => [a.name, a.pm2_env.exec_mode, a.pm2_env.status]), [["tsmon-server", "cluster_mode", "online"], ["tsmon-server", "cluster_mode", "online"]]);
    const second = await sh("bash", args, { env: pm2Env });
    t.is(second.code, 0, second.stderr);
    t.regex(second.stdout, /\[kept\] .*ecosystem\.server\.config\.cjs/);
    t.is((await list()).filter((a) => a.name === "tsmon-server").length, 2, "startOrReload: the same two instances, not two more");
  } finally {
    if (existsSync(`${r}/opt/current/node_modules/.bin/pm2`)) await pm2("kill");
  }
});

test.serial("install.sh --pm2-only writes a PM2 file that loads, and keeps it on a second run", async (t) => {
  const r = path.join(work, "pm2root");
  const args = [path.join(root, "scripts/install.sh"), "server", "--pm2-only", "--install-dir", `${r}/opt`, "--config-dir", `${r}/etc`, "--bin-dir", `${r}/bin`];
  const first = await sh("bash", args);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /\[done\] wrote .*ecosystem\.server\.config\.cjs/);
  const { createRequire } = await import("node:module");
  const app = (createRequire(import.meta.url)(`${r}/etc/ecosystem.server.config.cjs`) as { apps: Record<string, unknown>[] }).apps[0]!;
  t.like(app, { name: "tsmon-server", script: `${r}/opt/current/bin/tsmon-server.js`, args: `${r}/etc/server.toml`, exec_mode: "cluster", env: ALLOCATOR_ENV });
  const second = await sh("bash", args);
  t.regex(second.stdout, /\[kept\] .*ecosystem\.server\.config\.cjs/);
  t.false(existsSync(`${r}/opt/releases`), "--pm2-only installs nothing else");
});
