import { underPm2Cluster } from "../server/pm2-cluster.ts";
import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError, buildServerConfig, loadServerConfig } from "../server/config/load.ts";

const exampleFile = new URL("../config/server.example.toml", import.meta.url).pathname;

const made: string[] = [];
test.after.always(() => { for (const dir of made) rmSync(dir, { recursive: true, force: true }); });

function tomlFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-cfg-"));
  made.push(dir);
  const file = path.join(dir, "server.toml");
  writeFileSync(file, text);
  return file;
}

test("embedded defaults match the reference", (t) => {
  const cfg = loadServerConfig();
  t.is(cfg.grpc_port, 9090);
  t.is(cfg.http_port, 8080);
  t.is(cfg.retention_days, 7);
  t.is(cfg.rollup_retention_days, 90);
  t.is(cfg.history_retention_days, 365);
  t.false(cfg.require_agent_auth);
  t.is(cfg.data_dir, path.resolve("data"));
  t.is(cfg.cert_check.default_interval_secs, 86400);
  t.is(cfg.notification.aggregation_window_secs, 60);
  t.true(Object.isFrozen(cfg) && Object.isFrozen(cfg.actors));
});

test("the example file, with every section, loads", (t) => {
  const cfg = loadServerConfig(exampleFile);
  t.is(cfg.alert.rules.length, 5);
  t.deepEqual(cfg.alert.rules.map((r) => r.type), ["threshold", "rate_of_change", "trend_prediction", "cert_expiration", "agent_offline"]);
  t.is(cfg.notification.channels[0]!.type, "webhook");
  t.is(cfg.notification.silence_windows[0]!.recurrence, "daily");
  t.is(cfg.actors.ingest_threads, 1);
});

test("every error is listed with its path", (t) => {
  const file = tomlFile(`
grpc_port = "9090"
retention_dayz = 7
history_retention_days = 0
[actors]
ingest_threads = 0
[[alert.rules]]
name = "x"
type = "threshold"
metric = "cpu.usage"
operator = "bigger"
value = 1
[[notification.silence_windows]]
start_time = "25:00"
end_time = "04:00"
`);
  const err = t.throws(() => loadServerConfig(file), { instanceOf: ConfigError }) as ConfigError;
  const problems = err.problems.join("\n");
  t.regex(problems, /^grpc_port: .*expected number/m);
  t.regex(problems, /^\(top level\): Unrecognized key: "retention_dayz"/m);
  t.regex(problems, /^history_retention_days: /m);
  t.regex(problems, /^actors\.ingest_threads: /m);
  t.regex(problems, /^alert\.rules\.0\.operator: /m);
  t.regex(problems, /^notification\.silence_windows\.0\.start_time: expected HH:MM/m);
  t.is(err.problems.length, 6);
});

test("a TOML syntax error and a missing file are reported, not thrown raw", (t) => {
  const file = tomlFile("http_port = 8080\ngrpc_port = = 1");
  const syntax = t.throws(() => loadServerConfig(file), { instanceOf: ConfigError }) as ConfigError;
  t.regex(syntax.problems[0]!, /^TOML syntax/);
  t.true(syntax.problems[0]!.includes(`${file}:2:13 (line 2, column 13)`), `file, line and column: ${syntax.problems[0]}`);
  const missing = t.throws(() => loadServerConfig("/nonexistent/server.toml"), { instanceOf: ConfigError }) as ConfigError;
  t.regex(missing.problems[0]!, /cannot read the file/);
});

test("cross-field rules: TLS needs its files, critical_days ≤ warning_days, rollups outlive data", (t) => {
  const err = t.throws(() => buildServerConfig({
    retention_days: 30, rollup_retention_days: 10,
    tls: { enabled: true },
    alert: { rules: [{ name: "c", type: "cert_expiration", warning_days: 7, critical_days: 30 }] },
  }), { instanceOf: ConfigError }) as ConfigError;
  t.deepEqual(err.problems, [
    "rollup_retention_days: must be at least retention_days (30): rollups are made from the data retention keeps",
    "tls: enabled = true needs cert_file and key_file",
    "alert.rules.0.critical_days: critical_days must not exceed warning_days",
  ]);
});

test("a PM2 cluster of several instances is told apart from one instance and from fork mode", (t) => {
  t.true(underPm2Cluster({ exec_mode: "cluster_mode", instances: "2" }));
  t.true(underPm2Cluster({ exec_mode: "cluster_mode", instances: "max" }));
  t.false(underPm2Cluster({ exec_mode: "cluster_mode", instances: "1" }));
  t.false(underPm2Cluster({ exec_mode: "fork_mode", instances: "2" }));
  t.false(underPm2Cluster({}));
});

test("a silence window's time zone, days and date are checked at start-up as the API checks them", (t) => {
  const file = tomlFile(`
[[notification.silence_windows]]
start_time = "02:00"
end_time = "04:00"
timezone = "Mars/Base"
[[notification.silence_windows]]
start_time = "02:00"
end_time = "04:00"
recurrence = "weekly"
`);
  const err = t.throws(() => loadServerConfig(file), { instanceOf: ConfigError }) as ConfigError;
  t.deepEqual(err.problems, [
    "notification.silence_windows.0.timezone: unknown time zone 'Mars/Base'",
    "notification.silence_windows.1.days: a weekly window needs days, e.g. [\"sat\", \"sun\"]",
  ]);
});
