import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { freePort } from "../scripts/lib/ports.ts";

/*
 * What a new user meets in the first hour, tried the way they would: the real CLIs and
 * `npm start` as child processes, the README's Quick start pasted into bash.
 */

const root = new URL("..", import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };

function run(file: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { cwd: root, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}
const node = (args: string[]) => run(process.execPath, args);

for (const cli of ["tsmon-server", "tsmon-agent"]) {
  test(`${cli} --version prints the version, exit 0`, async (t) => {
    const { code, stdout } = await node([path.join(root, "bin", `${cli}.js`), "--version"]);
    t.is(code, 0);
    t.is(stdout.trim(), `${cli} ${version}`);
  });

  test(`${cli} with an unknown flag prints the problem and the usage, exit 2, no stack trace`, async (t) => {
    const { code, stdout, stderr } = await node([path.join(root, "bin", `${cli}.js`), "--no-such-flag"]);
    t.is(code, 2, stderr);
    t.is(stdout, "");
    t.regex(stderr, /Unknown option '--no-such-flag'/);
    t.regex(stderr, /usage: tsmon-(server|agent) \[CONFIG\]/i);
    t.notRegex(stderr, /ERR_PARSE_ARGS|\n\s+at /);
  });
}

test("npm start with a busy port refuses before starting anything: one line naming port and field, exit 2", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-first-hour-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  t.teardown(() => blocker.close());
  const busy = (blocker.address() as net.AddressInfo).port;
  const file = path.join(dir, "server.toml");
  writeFileSync(file, `bind_address = "127.0.0.1"\ngrpc_port = ${busy}\nhttp_port = ${await freePort()}\ndata_dir = "${dir}/data"\n`);
  const { code, stdout, stderr } = await node(["--import", "tsx", path.join(root, "scripts/start-local.ts"), file]);
  t.is(code, 2, stderr);
  t.is(stderr, `[tsmon] not starting: grpc_port: port ${busy} on 127.0.0.1 is in use by another process; stop it or choose another grpc_port (config: ${file})\n`);
  t.is(stdout, "", "nothing started, nothing said to be running");
  t.throws(() => readFileSync(path.join(dir, "data", "control.mdb")), undefined, "no server ever opened the data dir");
});

/** The README's Quick start block that is pasted into a second terminal. */
function quickStartSnippet(): string {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("\n## ", readme.indexOf("## Quick start") + 3));
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const snippet = blocks.find((b) => b.includes("/v1/metrics"));
  if (!snippet) throw new Error("README Quick start: no bash block with /v1/metrics");
  return snippet;
}

test("Quick start as pasted: npm start, the framed password, then the README's curl lines return the local agent's data", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-quickstart-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const http = await freePort();
  const file = path.join(dir, "server.toml");
  // The embedded defaults but for ports and data dir, so the test runs beside anything on 8080.
  writeFileSync(file, `bind_address = "127.0.0.1"\ngrpc_port = ${await freePort()}\nhttp_port = ${http}\ndata_dir = "${dir}/data"\nlog_format = "text"\n`);
  const launcher = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/start-local.ts"), file], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  launcher.stdout.on("data", (c) => (out += c));
  launcher.stderr.on("data", (c) => (out += c));
  const exited = new Promise((r) => launcher.once("exit", r));
  t.teardown(async () => { if (launcher.exitCode === null) { launcher.kill("SIGTERM"); await exited; } });

  const deadline = Date.now() + 120_000;
  while (!/\[tsmon\] running/.test(out) && Date.now() < deadline && launcher.exitCode === null) await sleep(200);
  t.regex(out, /\[tsmon\] running/, out);
  const password = /with the password {3}(\S+)\n/.exec(out)?.[1];
  t.truthy(password, `framed password line:\n${out}`);
  // log_format = "text": readable lines naming what is really bound.
  t.regex(out, /^\d\d:\d\d:\d\d\.\d{3} INFO  tsmon server ready: listening on 127\.0\.0\.1 \(this address only\)/m);

  const snippet = quickStartSnippet().replaceAll("127.0.0.1:8080", `127.0.0.1:${http}`);
  let result = { code: null as number | null, stdout: "", stderr: "" };
  // The local agent's first report lands a second or so after it starts; a loaded machine is
  // slower. Its latest values reach the agent window a moment after its points are stored.
  while (Date.now() < deadline) {
    result = await run("bash", ["-euo", "pipefail", "-c", snippet], `${password}\n`);
    if (result.code === 0 && /"points": \[\s*\[/.test(result.stdout) && !/"error"/.test(result.stdout)) break;
    await sleep(1000);
  }
  t.is(result.code, 0, result.stderr);
  t.true(result.stdout.includes(`"${hostname()}"`), "the agent list and latest values name this host");
  const docs = result.stdout.trim().split(/\n(?=[{[])/).map((d) => JSON.parse(d) as unknown);
  t.is(docs.length, 3, "three JSON answers: agents, latest, metrics");
  t.notRegex(JSON.stringify(docs), /"error"/, "no example answers an error");
  // The agent's stdout is a pipe here, so its log_format "auto" means JSON.
  t.regex(out, /^\{"level":30,.*"name":"tsmon-agent"/m);
  const metrics = docs[2] as { agent_id: string; series: { points: [number, number][] }[] };
  t.is(metrics.agent_id, hostname());
  t.true(metrics.series[0]!.points.length >= 1, `the /v1/metrics example returns points:\n${JSON.stringify(metrics).slice(0, 500)}`);
});
