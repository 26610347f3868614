import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { parseAgentCommand, type AgentConfig } from "../agent/config.ts";
import { buildServerConfig, ConfigError, loadServerConfig } from "../server/config/load.ts";
import { freePort } from "../scripts/lib/ports.ts";

/* Every config field from the environment: TSMON_<PATH, sections joined by __> for the server, TSMON_AGENT_<FIELD> for the agent. */

const root = new URL("..", import.meta.url).pathname;
const dir = mkdtempSync(path.join(tmpdir(), "tsmon-env-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function tomlFile(text: string): string {
  const file = path.join(dir, `c${n++}.toml`);
  writeFileSync(file, text);
  return file;
}

test("server: TSMON_HTTP_PORT and TSMON_AUTH__JWT_SECRET override the file; types follow the fields", (t) => {
  const file = tomlFile(`http_port = 8080\ndata_dir = "${dir}/d"\n[auth]\ntoken_expire_secs = 60\n`);
  const config = loadServerConfig(file, { env: {
    TSMON_HTTP_PORT: "18080", TSMON_AUTH__JWT_SECRET: "s".repeat(40), TSMON_REQUIRE_AGENT_AUTH: "true",
    TSMON_LOG_FORMAT: "json", TSMON_CERT_CHECK__ENABLED: "false", PATH: "/bin",
    TSMON_ALERT__RULES: '[{ name = "hot", type = "threshold", metric = "cpu.usage", operator = "greater_than", value = 90, severity = "critical" }]',
  } });
  t.is(config.http_port, 18080);
  t.is(config.auth.jwt_secret, "s".repeat(40));
  t.is(config.auth.token_expire_secs, 60, "the file's other fields in the section stay");
  t.true(config.require_agent_auth);
  t.is(config.log_format, "json");
  t.false(config.cert_check.enabled);
  t.is(config.alert.rules[0]!.name, "hot");
});

test("server: every field with a default can be set from the environment", (t) => {
  const defaults = buildServerConfig({}) as unknown as Record<string, unknown>;
  const env: Record<string, string> = {};
  const walk = (obj: Record<string, unknown>, at: string[]) => {
    for (const [key, value] of Object.entries(obj)) {
      if (value && typeof value === "object" && !Array.isArray(value)) walk(value as Record<string, unknown>, [...at, key]);
      else if (!Array.isArray(value)) env[`TSMON_${[...at, key].join("__").toUpperCase()}`] = String(value);
    }
  };
  walk(defaults, []);
  t.true(Object.keys(env).length > 35, `fields found: ${Object.keys(env).length}`);
  const warnings: string[] = [];
  const config = loadServerConfig(undefined, { env, warn: (m) => warnings.push(m) });
  t.deepEqual(warnings, [], "every name is a field");
  t.deepEqual(config, defaults as unknown as typeof config);
});

test("server: a value of the wrong type names the variable; an unknown TSMON_ name is a warning, not fatal", (t) => {
  const err = t.throws(() => loadServerConfig(undefined, { env: { TSMON_HTTP_PORT: "eighty", TSMON_TLS__ENABLED: "yes" } }), { instanceOf: ConfigError }) as ConfigError;
  t.deepEqual(err.problems, ["TSMON_HTTP_PORT: expected a number, got 'eighty'", "TSMON_TLS__ENABLED: expected true or false, got 'yes'"]);
  const range = t.throws(() => loadServerConfig(undefined, { env: { TSMON_HTTP_PORT: "70000" } }), { instanceOf: ConfigError }) as ConfigError;
  t.regex(range.message, /with TSMON_HTTP_PORT from the environment/);
  t.regex(range.problems[0]!, /^http_port: /);
  const warnings: string[] = [];
  loadServerConfig(undefined, { env: { TSMON_HTTP_PROT: "1", TSMON_AGENT_AUTH_TOKEN: "x", TSMON_INSTANCES: "2" }, warn: (m) => warnings.push(m) });
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /ignoring TSMON_HTTP_PROT: no server config field/);
});

async function agentRun(argv: string[], env: Record<string, string>): Promise<AgentConfig> {
  const command = await parseAgentCommand(argv, env);
  if (command.kind !== "run") throw new Error("expected a run");
  return command.config;
}

test("agent: TSMON_AGENT_<FIELD> overrides the file, a flag overrides both", async (t) => {
  const file = tomlFile(`server_endpoint = "http://10.0.0.1:9090"\nagent_id = "from-file"\ncollection_interval_secs = 30\n`);
  const env = { TSMON_AGENT_SERVER_ENDPOINT: "https://mon.example:9443", TSMON_AGENT_AGENT_ID: "from-env", TSMON_AGENT_AUTH_TOKEN: "tok",
    TSMON_AGENT_SLOW_PATHS: "/a, /b", TSMON_AGENT_BUFFER_MAX_SIZE: "7", TSMON_AGENT_LOG_FORMAT: "json",
    TSMON_AGENT_CHECKS: '[{ type = "tcp", name = "db", target = "127.0.0.1", port = 5432 }]' };
  const config = await agentRun([file, "--agent-id", "from-flag"], env);
  t.is(config.serverEndpoint, "https://mon.example:9443");
  t.true(config.tls, "https:// from the environment turns TLS on");
  t.is(config.agentId, "from-flag");
  t.is(config.authToken, "tok");
  t.is(config.collectionIntervalSecs, 30, "the file's value where no variable is set");
  t.deepEqual(config.slowPaths, ["/a", "/b"]);
  t.is(config.bufferMaxSize, 7);
  t.is(config.logFormat, "json");
  t.is(config.checks.length, 1);
});

test("agent: a bad value names the variable", async (t) => {
  const err = await t.throwsAsync(agentRun([], { TSMON_AGENT_COLLECTION_INTERVAL_SECS: "soon" }));
  t.regex(err!.message, /TSMON_AGENT_COLLECTION_INTERVAL_SECS: expected a number, got 'soon'/);
  const range = await t.throwsAsync(agentRun([], { TSMON_AGENT_COLLECTION_INTERVAL_SECS: "0" }));
  t.regex(range!.message, /with TSMON_AGENT_COLLECTION_INTERVAL_SECS from the environment[\s\S]*collection_interval_secs: Too small/);
});

test("the real server runs from the environment alone: no file, ports and data dir from TSMON_ variables", async (t) => {
  const http = await freePort();
  const env = { ...process.env, TSMON_HTTP_PORT: String(http), TSMON_GRPC_PORT: String(await freePort()), TSMON_BIND_ADDRESS: "127.0.0.1",
    TSMON_DATA_DIR: path.join(dir, "from-env"), TSMON_LOG_LEVEL: "warn", TSMON_AUTH__DEFAULT_PASSWORD: "Env-set-pw-2026" };
  const child = spawn(process.execPath, [path.join(root, "bin/tsmon-server.js")], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (out += c));
  const exited = new Promise((r) => child.once("exit", r));
  t.teardown(async () => { if (child.exitCode === null) { child.kill("SIGTERM"); await exited; } });
  const deadline = Date.now() + 120_000;
  let ok = false;
  while (!ok && Date.now() < deadline && child.exitCode === null) {
    ok = await fetch(`http://127.0.0.1:${http}/v1/health`).then((r) => r.ok, () => false);
    if (!ok) await sleep(200);
  }
  t.true(ok, out);
  const login = await fetch(`http://127.0.0.1:${http}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: "Env-set-pw-2026" }) });
  t.is(login.status, 200, "the admin's password came from TSMON_AUTH__DEFAULT_PASSWORD");
});
