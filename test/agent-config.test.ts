import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AGENT_USAGE, AgentConfigError, buildAgentConfig, parseAgentCommand, type AgentCommand } from "../agent/config.ts";
import { parseEndpoint } from "../agent/config-fields.ts";

const exampleFile = new URL("../config/agent.example.toml", import.meta.url).pathname;

const dirs: string[] = [];
test.after.always(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tomlFile(text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-agent-cfg-"));
  dirs.push(dir);
  const file = path.join(dir, "agent.toml");
  writeFileSync(file, text);
  return file;
}

async function run(argv: string[]) {
  const command: AgentCommand = await parseAgentCommand(argv);
  if (command.kind !== "run") throw new Error("expected a run command");
  return command.config;
}

async function problemsOf(fn: () => unknown): Promise<string[]> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof AgentConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected an AgentConfigError");
}

test("no file, no flags: the reference defaults, frozen", async (t) => {
  const cfg = await run([]);
  t.deepEqual({ ...cfg }, {
    agentId: os.hostname(),
    serverEndpoint: "http://127.0.0.1:9090",
    grpcTarget: "127.0.0.1:9090",
    transport: "http",
    httpBase: "http://127.0.0.1:9090",
    authToken: undefined,
    collectionIntervalSecs: 10,
    bufferMaxSize: 1000,
    reportIntervalSecs: 10,
    stateDir: path.dirname(cfg.spoolDir),
    spoolDir: cfg.spoolDir,
    spoolMaxBytes: 256 * 2 ** 20,
    drainReportsPerSec: 10,
    tls: false,
    caFile: undefined,
    slowPaths: undefined,
    slowIntervalSecs: 300,
    slowMaxFiles: 5_000_000,
    slowMaxSecs: 120,
    checks: [],
    checkConcurrency: 4,
    logFormat: "auto",
    update: { publicKey: undefined, auto: true, checkHours: 24, url: "http://127.0.0.1:9090", trialSecs: 120 },
    advertiseAddress: undefined,
  });
  t.true(Object.isFrozen(cfg));
  t.true(Object.isFrozen(cfg.update));
  t.true(path.isAbsolute(cfg.spoolDir) && cfg.spoolDir.endsWith(`${path.sep}spool`), cfg.spoolDir);
});

test("spool, report interval and transport fields; flags override them", async (t) => {
  const file = tomlFile(`
server_endpoint = "grpc://10.0.1.100:9090"
collection_interval_secs = 1
report_interval_secs = 10
state_dir = "/var/lib/agent-a"
spool_max_bytes = 1048576
drain_reports_per_sec = 50
`);
  t.like(await run([file]), {
    transport: "grpc", grpcTarget: "10.0.1.100:9090", reportIntervalSecs: 10, spoolDir: "/var/lib/agent-a/spool", spoolMaxBytes: 1_048_576, drainReportsPerSec: 50,
  });
  t.like(await run([file, "--server-url", "https://mon.example:8443", "--spool-dir", "/tmp/s", "--report-interval", "5", "--spool-max-bytes", "65536", "--drain-rate", "2"]), {
    transport: "http", httpBase: "https://mon.example:8443", tls: true, spoolDir: "/tmp/s", reportIntervalSecs: 5, spoolMaxBytes: 65_536, drainReportsPerSec: 2,
  });
  t.like(await run(["--server-url", "grpcs://mon.example:9443"]), { transport: "grpc", tls: true });
  t.is((await run(["--interval", "5", "--report-interval", "1"])).reportIntervalSecs, 5, "a report holds at least one collection");
  const problems = await problemsOf(() => run(["--spool-dir", "relative/dir", "--spool-max-bytes", "10", "--report-interval", "0"]));
  t.deepEqual(problems.map((p) => p.split(":")[0]).sort(), ["--report-interval", "--spool-dir", "--spool-max-bytes"]);
});

test("the example file loads and says what the defaults are", async (t) => {
  const cfg = await run([exampleFile]);
  t.is(cfg.serverEndpoint, "http://127.0.0.1:9090");
  t.is(cfg.collectionIntervalSecs, 10);
  t.is(cfg.bufferMaxSize, 1000);
  t.false(cfg.tls);
});

test("a file sets every field; flags override each of them", async (t) => {
  const file = tomlFile(`
agent_id = "web-01"
server_endpoint = "http://10.0.1.100:9090"
auth_token = "from-file"
collection_interval_secs = 30
buffer_max_size = 50
tls = false
`);
  const fromFile = await run([file]);
  t.like(fromFile, { agentId: "web-01", grpcTarget: "10.0.1.100:9090", authToken: "from-file", collectionIntervalSecs: 30, bufferMaxSize: 50, tls: false });

  const cfg = await run([file, "--agent-id", "db-02", "--server-url", "monitor.example:7000", "--token", "from-flag",
    "--interval", "0.5", "--buffer-size", "7", "--tls", "--ca-file", "/etc/ca.pem"]);
  t.like(cfg, {
    agentId: "db-02", serverEndpoint: "monitor.example:7000", grpcTarget: "monitor.example:7000", authToken: "from-flag",
    collectionIntervalSecs: 0.5, bufferMaxSize: 7, tls: true, caFile: "/etc/ca.pem",
  });
  // Flags may come before the file too.
  t.is((await run(["--interval", "2", file])).collectionIntervalSecs, 2);
});

test("endpoint forms: http, https (implies TLS), bare host:port, IPv6", async (t) => {
  t.deepEqual(parseEndpoint("http://10.0.0.1:9090"), { scheme: "http", target: "10.0.0.1:9090" });
  t.deepEqual(parseEndpoint("https://mon.example:443/"), { scheme: "https", target: "mon.example:443" });
  t.deepEqual(parseEndpoint("localhost:9090"), { scheme: undefined, target: "localhost:9090" });
  t.deepEqual(parseEndpoint("[::1]:9090"), { scheme: undefined, target: "[::1]:9090" });
  for (const bad of ["localhost", "http://host", "ftp://host:21", "host:0", "host:70000", "http://host:9090/path", "user@host:1", ""]) {
    t.is(parseEndpoint(bad), undefined, bad);
  }
  t.true((await run(["--server-url", "https://mon.example:9443"])).tls);
});

test("unknown keys and wrong types in the file: every problem, with its path", async (t) => {
  const file = tomlFile(`
agent_id = "has space"
server_endpoint = "nowhere"
collection_interval_secs = "10"
buffer_max_size = 1.5
tls = "yes"
colection_interval_secs = 5
[extra]
x = 1
`);
  const problems = await problemsOf(() => run([file]));
  const paths = problems.map((p) => p.split(":")[0]);
  t.deepEqual(paths.sort(), ["agent_id", "buffer_max_size", "colection_interval_secs", "collection_interval_secs", "extra", "server_endpoint", "tls"].sort(), problems.join("\n"));
  t.true(problems.some((p) => /^colection_interval_secs: unknown key/.test(p)));
  t.true(problems.some((p) => /^collection_interval_secs: .*expected number/.test(p)));
  t.true(problems.some((p) => /^buffer_max_size: .*expected int/.test(p)));
  t.true(problems.some((p) => /^server_endpoint: expected http:\/\/host:port/.test(p)));
});

test("bad flag values are reported under the flag's name, together with the file's problems", async (t) => {
  const file = tomlFile(`buffer_max_size = 0\n`);
  const problems = await problemsOf(() => run([file, "--interval", "0.01", "--buffer-size", "many", "--server-url", "x"]));
  t.deepEqual(problems.map((p) => p.split(":")[0]).sort(), ["--buffer-size", "--interval", "--server-url", "buffer_max_size"]);
});

test("ca_file without TLS is refused; with --tls it is fine", async (t) => {
  t.deepEqual((await problemsOf(() => run(["--ca-file", "/etc/ca.pem"]))).map((p) => p.split(":")[0]), ["ca_file"]);
  t.is((await run(["--ca-file", "/etc/ca.pem", "--tls"])).caFile, "/etc/ca.pem");
});

test("command-line mistakes: unknown flag, missing value, two files, unreadable file, bad TOML", async (t) => {
  t.regex((await problemsOf(() => run(["--intervall", "5"])))[0]!, /--intervall/);
  t.regex((await problemsOf(() => run(["--interval"])))[0]!, /--interval/);
  t.regex((await problemsOf(() => run(["a.toml", "b.toml"])))[0]!, /at most one CONFIG/);
  t.regex((await problemsOf(() => run(["/nonexistent/agent.toml"])))[0]!, /cannot read the file/);
  const bad = tomlFile("interval = 5\nagent_id = ");
  t.regex((await problemsOf(() => run([bad])))[0]!, /TOML syntax/);
  t.true((await problemsOf(() => run([bad])))[0]!.includes(`${bad}:2:`), "names file and line");
});

test("--help lists every flag with its default", async (t) => {
  const command = await parseAgentCommand(["--help", "--interval", "nonsense"]);
  t.is(command.kind, "help");
  for (const flag of ["--server-url", "--interval", "--agent-id", "--token", "--buffer-size", "--tls", "--ca-file", "--help"]) {
    t.true(AGENT_USAGE.includes(flag), flag);
  }
  for (const value of ["http://127.0.0.1:9090", "default: 10", "default: 1000", "default: false", "host's name"]) t.true(AGENT_USAGE.includes(value), value);
});

test("agent/main.ts --help prints the usage and exits 0; a bad config exits 2 with the problems", async (t) => {
  const main = new URL("../agent/main.ts", import.meta.url).pathname;
  const out = execFileSync(process.execPath, ["--import", "tsx", main, "--help"], { encoding: "utf8" });
  t.is(out.trim(), AGENT_USAGE);
  const err = t.throws(() => execFileSync(process.execPath, ["--import", "tsx", main, "--interval", "0"], { encoding: "utf8", stdio: "pipe" })) as Error & { status: number; stderr: string };
  t.is(err.status, 2);
  t.regex(err.stderr, /--interval: Too small/);
});

test("buildAgentConfig takes an already-parsed table", async (t) => {
  t.is(buildAgentConfig({ agent_id: "x" }, { interval: 3 }).collectionIntervalSecs, 3);
  t.deepEqual(await problemsOf(() => buildAgentConfig({}, { nosuch: 1 })), ["--nosuch: unknown flag"]);
});

test("the slow loop's fields: defaults, file, flags (a comma-separated list), and their problems", async (t) => {
  const defaults = await run([]);
  t.like(defaults, { slowPaths: undefined, slowIntervalSecs: 300, slowMaxFiles: 5_000_000, slowMaxSecs: 120 });
  const file = tomlFile(`slow_paths = ["/var/lib/docker", "/srv/data"]\nslow_interval_secs = 600\nslow_max_files = 1000\nslow_max_secs = 5\n`);
  t.like(await run([file]), { slowPaths: ["/var/lib/docker", "/srv/data"], slowIntervalSecs: 600, slowMaxFiles: 1000, slowMaxSecs: 5 });
  t.deepEqual((await run([file, "--slow-paths", "/a, /b", "--slow-interval", "60"])).slowPaths, ["/a", "/b"]);
  t.true(Object.isFrozen((await run([file])).slowPaths));
  const bad = tomlFile(`slow_paths = ["relative/dir"]\nslow_interval_secs = 0\nslow_max_files = 1.5\n`);
  const problems = await problemsOf(() => run([bad, "--slow-max-secs", "x"]));
  t.deepEqual(problems.map((p) => p.split(":")[0]).sort(), ["--slow-max-secs", "slow_interval_secs", "slow_max_files", "slow_paths"], problems.join("\n"));
  t.true(problems.some((p) => /^slow_paths: entry 0: each path must be absolute/.test(p)));
  t.regex((await problemsOf(() => run([tomlFile(`slow_paths = "/var/lib/docker"\n`)])))[0]!, /^slow_paths: expected array of strings, received string/);
  t.regex(AGENT_USAGE, /--slow-paths DIR,…/);
});
