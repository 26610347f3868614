import test from "ava";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { startAgent } from "../agent/agent.ts";
import { down, up } from "../agent/checks/check.ts";
import { validateCheckTables, type CheckDefinition } from "../agent/checks/definitions.ts";
import { CheckResults, resultPoints } from "../agent/checks/results.ts";
import { AgentConfigError, buildAgentConfig, parseAgentCommand } from "../agent/config.ts";
import { FakeReceiver } from "./helpers/fake-receiver.ts";
import { refusedPort } from "./helpers/test-pki.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-agent-checks-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

async function problemsOfFile(toml: string): Promise<string[]> {
  const file = path.join(dir, `agent-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(file, toml);
  try {
    await parseAgentCommand([file]);
  } catch (err) {
    if (err instanceof AgentConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected an AgentConfigError");
}

test("[[checks]]: every problem of every table is reported by path, with the top-level ones", async (t) => {
  const problems = await problemsOfFile(`
collection_interval_secs = "often"

[[checks]]
name = "db"
type = "tcp"
target = "db.internal:5432"
port = 70000

[[checks]]
name = "db"
type = "https"
target = "http://example.com/"
expect_status = "200"
expect_body = "/unclosed(/"

[[checks]]
name = "ping"
type = "ping"
target = "10.0.0.1"

[[checks]]
name = "resolver"
type = "dns"
target = "example.com"
record_type = "AXFR"
server = "dns.google"
interval_secs = 2
timeout_ms = 5000
colour = "blue"
`);
  t.deepEqual(problems, [
    "collection_interval_secs: expected number, received string",
    "checks[0].port: Too big: expected number to be <=65535",
    "checks[1].expect_status: expected a status code or a list of them, e.g. 200 or [200, 301]",
    "checks[1].expect_body: not a valid regular expression: Invalid regular expression: /unclosed(/: Unterminated group (write a plain substring, or /pattern/flags)",
    "checks[2].type: unknown check type; expected one of icmp, tcp, udp, http, https, dns",
    `checks[3].record_type: Invalid option: expected one of "A"|"AAAA"|"CNAME"|"MX"|"NS"|"PTR"|"SOA"|"SRV"|"TXT"|"CAA"`,
    "checks[3].server: expected an IP address, ip:port or [ipv6]:port (a name server is given by address, not by name)",
    `checks[3]: Unrecognized key: "colour"`,
  ]);
});

test("[[checks]]: cross-field problems: target form per type, timeout longer than the interval, a name used twice", async (t) => {
  const { problems } = validateCheckTables([
    { name: "a", type: "tcp", target: "db.internal:5432", port: 5432 },
    { name: "b", type: "https", target: "http://example.com/" },
    { name: "c", type: "dns", target: "example.com", interval_secs: 2, timeout_ms: 5000 },
    { name: "c", type: "udp", target: "10.0.0.1", port: 53, send: "x" },
    "not a table",
  ]);
  t.deepEqual(problems, [
    "checks[0].target: \"db.internal:5432\" is not a host name or IP address (give the port in `port`, without a scheme or brackets)",
    "checks[1].target: expected https:// for type \"https\", got http://",
    "checks[2].timeout_ms: 5000 ms is longer than interval_secs (2 s); shorten it or probe less often",
    "checks[3].name: \"c\" is already the name of checks[2]; names must be unique (they label the samples)",
    "checks[4]: expected a table ([[checks]])",
  ]);
});

test("[[checks]]: defaults filled (30 s, 5 s timeout, 5 redirects, A records) and the target label per type", async (t) => {
  const { checks, problems } = validateCheckTables([
    { name: "web", type: "http", target: "http://example.com/" },
    { name: "db", type: "tcp", target: "::1", port: 5432, interval_secs: 2 },
    { name: "ns", type: "dns", target: "example.com" },
  ]);
  t.deepEqual(problems, []);
  t.like(checks[0], { interval_secs: 30, timeout_ms: 5000, label: "http://example.com/", options: { max_redirects: 5, method: "GET" } });
  t.like(checks[1], { interval_secs: 2, timeout_ms: 2000, label: "[::1]:5432" });
  t.like(checks[2], { label: "example.com", options: { record_type: "A" } });
  t.is(buildAgentConfig({ checks: [] }).checks.length, 0, "an empty list needs no schemas");
  t.throws(() => buildAgentConfig({ checks: [{ name: "x" }] }), { message: /pass validateCheckTables/ });
});

const DEF: CheckDefinition = { name: "web", type: "http", target: "http://x/", interval_secs: 30, timeout_ms: 5000, traceroute_on_failure: false, label: "http://x/", options: {} };

test("results: samples carry check/type/target labels; down is logged once at the transition, the latest reason kept", (t) => {
  t.deepEqual(resultPoints(DEF, up({ rtt_ms: 12.5, http_status: 200 }), 1000).map((p) => [p.metric, p.value, p.labels]), [
    ["check.up", 1, { check: "web", type: "http", target: "http://x/" }],
    ["check.rtt_ms", 12.5, { check: "web", type: "http", target: "http://x/" }],
    ["check.http_status", 200, { check: "web", type: "http", target: "http://x/" }],
  ]);
  const lines: Array<{ level: number; msg: string }> = [];
  const results = new CheckResults(pino({ level: "info" }, { write: (line: string) => { lines.push(JSON.parse(line)); } }));
  results.record(DEF, up({ rtt_ms: 1 }), 1000);
  results.record(DEF, down("refused", "connect to x:80: ECONNREFUSED"), 2000);
  results.record(DEF, down("timeout", "no answer"), 3000);
  results.record(DEF, up({ rtt_ms: 1 }), 4000);
  t.deepEqual(lines.map((l) => l.msg), ["check web is down: connect to x:80: ECONNREFUSED", "check web is up again"]);
  t.like(results.state("web"), { up: true, sinceMs: 4000, lastReason: { code: "timeout", message: "no answer", atMs: 3000 } });
  t.deepEqual(results.drain().map((p) => [p.metric, p.timestampMs]), [["check.up", 4000], ["check.rtt_ms", 4000]], "only the newest probe waits");
  t.deepEqual(results.drain(), []);
});

test("agent: check samples go out with its reports, labelled, and a down check keeps its reason", async (t) => {
  const receiver = await FakeReceiver.start({ stream: true });
  const listener = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const openPort = (listener.address() as net.AddressInfo).port;
  const closedPort = await refusedPort();
  const { checks } = validateCheckTables([
    { name: "open", type: "tcp", target: "127.0.0.1", port: openPort, interval_secs: 1 },
    { name: "closed", type: "tcp", target: "127.0.0.1", port: closedPort, interval_secs: 1 },
  ]);
  const config = { ...buildAgentConfig({ agent_id: "checker" }, { "server-url": receiver.address, interval: 0.2 }), checks };
  const agent = await startAgent(config, { memoryQueue: true, collectors: [], systemInfo: null, logger: pino({ level: "silent" }) });
  try {
    const seen = () => receiver.accepted.flatMap((c) => c.batch.data_points).filter((p) => p.metric_name === "check.up");
    await receiver.waitFor(() => new Set(seen().map((p) => p.labels.check)).size === 2, 10_000, "both checks reported");
    const byCheck = new Map(seen().map((p) => [p.labels.check, p]));
    t.like(byCheck.get("open"), { value: 1, labels: { check: "open", type: "tcp", target: `127.0.0.1:${openPort}` } });
    t.like(byCheck.get("closed"), { value: 0, labels: { check: "closed", type: "tcp", target: `127.0.0.1:${closedPort}` } });
    t.true(receiver.accepted.flatMap((c) => c.batch.data_points).some((p) => p.metric_name === "check.rtt_ms" && p.labels.check === "open"));
    t.is(agent.checks?.state("closed")?.lastReason?.code, "refused");
  } finally {
    await agent.stop();
    await receiver.stop();
    await new Promise((resolve) => listener.close(resolve));
  }
});

test("the commented [[checks]] examples in config/agent.example.toml are valid once uncommented", async (t) => {
  const example = readFileSync(new URL("../config/agent.example.toml", import.meta.url), "utf8");
  const from = example.indexOf("# [[checks]]");
  // Uncomment "# key = ..." and "# [[checks]]" lines; "# # ..." stays a comment.
  const checksPart = example.slice(from).split("\n").map((line) => line.replace(/^# (?!#)/, "")).join("\n");
  const file = path.join(dir, "example-checks.toml");
  writeFileSync(file, checksPart);
  const command = await parseAgentCommand([file]);
  t.is(command.kind, "run");
  if (command.kind !== "run") return;
  t.deepEqual(command.config.checks.map((c) => `${c.type} ${c.label}`), [
    "icmp 10.0.0.1", "tcp db.internal:5432", "tcp 127.0.0.1:6379", "udp 10.0.0.5:7", "https https://example.com/health", "dns example.com",
  ]);
});
