import test from "ava";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { CheckResult } from "../agent/checks/check.ts";
import { createCheck, validateCheckTables, type CheckDefinition } from "../agent/checks/definitions.ts";
import { createIcmpCheck, type IcmpConfig } from "../agent/checks/icmp.ts";
import { checksum, echoRequest, parseIcmp, writeEchoHeader } from "../agent/checks/icmp-packet.ts";
import { roundResult } from "../agent/checks/icmp-round.ts";
import { openRawIcmpSocket, type IcmpSocket } from "../agent/checks/icmp-socket.ts";
import { resultPoints } from "../agent/checks/results.ts";
import { FakeReceiver } from "./helpers/fake-receiver.ts";
import { refusedPort } from "./helpers/test-pki.ts";

/*
 * The icmp check on loopback (raw ICMP needs root or CAP_NET_RAW, as the agent does) and
 * its pure parts. Delay, loss and paths through routers: test/checks-netns.test.ts.
 */

function definition(table: Record<string, unknown>): CheckDefinition {
  const { checks, problems } = validateCheckTables([{ name: "ping", type: "icmp", ...table }]);
  if (problems.length) throw new Error(problems.join("; "));
  return checks[0]!;
}

function probe(def: CheckDefinition, check = createCheck(def)): Promise<CheckResult> {
  return check.probe({ timeoutMs: def.timeout_ms, signal: AbortSignal.timeout(def.timeout_ms) });
}

/** An IPv4 header (IHL 5, protocol ICMP) in front of `payload`. */
function ipv4(payload: Buffer, src: number[], dst: number[]): Buffer {
  const header = Buffer.alloc(20);
  header[0] = 0x45;
  header[8] = 64;
  header[9] = 1;
  Buffer.from(src).copy(header, 12);
  Buffer.from(dst).copy(header, 16);
  return Buffer.concat([header, payload]);
}

const rawSocket = openRawIcmpSocket();
const raw = "unavailable" in rawSocket ? undefined : rawSocket;
test.after.always(() => raw?.close());
const needsRaw = raw ? test : test.skip;
if (!raw) console.warn(`SKIPPED: the raw ICMP tests need root or CAP_NET_RAW: ${(rawSocket as { unavailable: string }).unavailable}`);

test("pure: an echo request carries its identifier, sequence and a valid checksum", (t) => {
  const packet = echoRequest(0x1234, 7);
  t.is(packet[0], 8);
  t.is(packet.readUInt16BE(4), 0x1234);
  t.is(packet.readUInt16BE(6), 7);
  t.is(checksum(packet), 0, "a packet with its checksum in place sums to zero");
});

test("pure: a reused request buffer rewritten for each identifier and sequence is a valid request, byte for byte a fresh one", (t) => {
  const reused = echoRequest(0, 0);
  for (const [identifier, sequence] of [[0x1234, 7], [0xffff, 0xffff], [0, 1], [0x8000, 0x7fff], [0xfedc, 0]] as const) {
    writeEchoHeader(reused, identifier, sequence);
    t.deepEqual(reused, echoRequest(identifier, sequence));
    t.is(checksum(reused), 0, `checksum of ${identifier}/${sequence}`);
  }
});

test("pure: replies, time exceeded and unreachable are parsed past the IP header; echo requests and other ICMP are not", (t) => {
  const request = echoRequest(0x1234, 7);
  const reply = Buffer.from(request);
  reply[0] = 0;
  t.deepEqual(parseIcmp(ipv4(reply, [10, 0, 0, 9], [10, 0, 0, 1]), "10.0.0.9"), { kind: "reply", identifier: 0x1234, sequence: 7, to: "10.0.0.9", code: 0 });
  t.is(parseIcmp(ipv4(request, [127, 0, 0, 1], [127, 0, 0, 1]), "127.0.0.1"), undefined, "our own request, seen on loopback");
  // A router's error quotes our datagram: its IP header (to 10.0.0.9) and the echo header.
  const quoted = ipv4(request, [10, 0, 0, 1], [10, 0, 0, 9]).subarray(0, 28);
  const error = (type: number, code: number) => ipv4(Buffer.concat([Buffer.from([type, code, 0, 0, 0, 0, 0, 0]), quoted]), [10, 0, 1, 1], [10, 0, 0, 1]);
  t.deepEqual(parseIcmp(error(11, 0), "10.0.1.1"), { kind: "time-exceeded", identifier: 0x1234, sequence: 7, to: "10.0.0.9", code: 0 });
  t.deepEqual(parseIcmp(error(3, 1), "10.0.1.1"), { kind: "unreachable", identifier: 0x1234, sequence: 7, to: "10.0.0.9", code: 1 });
  t.is(parseIcmp(error(5, 0), "10.0.1.1"), undefined, "a redirect is not about our probe");
  t.is(parseIcmp(Buffer.alloc(10), "10.0.1.1"), undefined, "too short");
  // An IP header with options (IHL 6) moves the ICMP header by 4 bytes.
  const withOptions = Buffer.concat([Buffer.from([0x46]), ipv4(reply, [10, 0, 0, 9], [10, 0, 0, 1]).subarray(1, 20), Buffer.alloc(4), reply]);
  t.like(parseIcmp(withOptions, "10.0.0.9"), { kind: "reply", sequence: 7 });
});

test("pure: a round's loss and min/avg/max/mdev; up with one answer, down with the last reason when none", (t) => {
  const lost = { lost: { code: "timeout" as const, message: "no echo reply within 1000 ms" } };
  t.deepEqual(roundResult([{ rttMs: 10 }, { rttMs: 20 }, lost, { rttMs: 30 }], "ping x"), {
    up: true,
    figures: { rtt_ms: 20, rtt_min_ms: 10, rtt_max_ms: 30, jitter_ms: 8.16, loss_percent: 25 },
  });
  const none = roundResult([lost, { lost: { code: "unreachable", message: "10.0.1.1 answered unreachable (code 1)" } }], "ping x");
  t.false(none.up);
  t.deepEqual(none.figures, { loss_percent: 100 });
  t.deepEqual(none.reason, { code: "unreachable", message: "ping x: no answer to 2 of 2 probes; last: 10.0.1.1 answered unreachable (code 1)" });
});

test("config: defaults, traceroute_on_failure by type, and probes that do not fit the timeout", (t) => {
  const def = definition({ target: "127.0.0.1" });
  t.like(def, { label: "127.0.0.1", traceroute_on_failure: true, options: { count: 5, probe_interval_ms: 200, port: 80 } });
  t.false(definition({ target: "127.0.0.1", traceroute_on_failure: false }).traceroute_on_failure);
  t.false(validateCheckTables([{ name: "w", type: "http", target: "http://x/" }]).checks[0]!.traceroute_on_failure, "off for http by default");
  t.true(validateCheckTables([{ name: "c", type: "tcp", target: "x", port: 1 }]).checks[0]!.traceroute_on_failure, "on for tcp by default");
  t.deepEqual(validateCheckTables([
    { name: "a", type: "icmp", target: "10.0.0.1", count: 30, probe_interval_ms: 200, timeout_ms: 5000 },
    { name: "b", type: "icmp", target: "::1" },
    { name: "c", type: "icmp", target: "10.0.0.1", count: 0, traceroute_on_failure: "yes" },
  ]).problems, [
    "checks[0].count: 30 requests 200 ms apart take 5800 ms, not less than timeout_ms (5000); lower count or probe_interval_ms, or raise timeout_ms",
    `checks[1].target: "::1" is IPv6; the icmp check speaks IPv4 only so far`,
    "checks[2].traceroute_on_failure: Invalid input: expected boolean, received string",
    "checks[2].count: Too small: expected number to be >=1",
  ]);
});

needsRaw("raw: 127.0.0.1 answers every echo; figures are ordered and the samples are the check.* metrics", async (t) => {
  const def = definition({ target: "127.0.0.1", count: 5, probe_interval_ms: 20, timeout_ms: 2000 });
  const result = await probe(def);
  t.true(result.up);
  const f = result.figures;
  t.is(f.loss_percent, 0);
  t.true(f.rtt_min_ms! <= f.rtt_ms! && f.rtt_ms! <= f.rtt_max_ms!, JSON.stringify(f));
  t.true(f.jitter_ms! >= 0);
  t.is(result.labels, undefined, "raw ICMP samples carry no method label");
  t.deepEqual(resultPoints(def, result, 1).map((p) => p.metric), ["check.up", "check.rtt_ms", "check.rtt_min_ms", "check.rtt_max_ms", "check.jitter_ms", "check.loss_percent"]);
});

needsRaw("raw: many checks share one socket; each gets only its own replies", async (t) => {
  const targets = Array.from({ length: 40 }, (_, i) => `127.0.${Math.floor(i / 10)}.${(i % 10) + 1}`);
  const results = await Promise.all(targets.map((target) => probe(definition({ target, count: 3, probe_interval_ms: 10, timeout_ms: 2000 }))));
  t.deepEqual(results.map((r) => r.figures.loss_percent), targets.map(() => 0));
});

needsRaw("raw: an echo whose round is already aborted is a timeout, not a hang", async (t) => {
  t.deepEqual(await raw!.echo("127.0.0.1", { timeoutMs: 1000, signal: AbortSignal.abort() }), { kind: "timeout" });
});

test("fallback: without raw ICMP the round times TCP connects (a refusal is an answer) and is labelled method=tcp", async (t) => {
  const unavailable = () => ({ unavailable: "this process may not open a raw ICMP socket (test)" });
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const open = definition({ target: "127.0.0.1", port, count: 3, probe_interval_ms: 10, timeout_ms: 2000 });
    const listening = await probe(open, createIcmpCheck(open, open.options as IcmpConfig, unavailable));
    t.like(listening, { up: true, labels: { method: "tcp" }, figures: { loss_percent: 0 } });
    t.deepEqual(resultPoints(open, listening, 1)[0]!.labels, { method: "tcp", check: "ping", type: "icmp", target: "127.0.0.1" });
    const closed = definition({ target: "127.0.0.1", port: await refusedPort(), count: 3, probe_interval_ms: 10, timeout_ms: 2000 });
    t.like(await probe(closed, createIcmpCheck(closed, closed.options as IcmpConfig, unavailable)), { up: true, labels: { method: "tcp" } }, "RST is an answer");
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

/** setpriv (util-linux) starts the agent without CAP_NET_RAW, as an unprivileged user would run it. */
function setprivWorks(): boolean {
  try {
    execFileSync("setpriv", ["--bounding-set=-net_raw", "true"], { stdio: "ignore" });
    return true;
  } catch {
    console.warn("SKIPPED the real agent's icmp fallback test: it needs root and setpriv (apt-get install util-linux)");
    return false;
  }
}

(setprivWorks() ? test : test.skip)("the real agent without CAP_NET_RAW says so once, with the fix, and reports TCP timing as method=tcp", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-icmp-fallback-"));
  const receiver = await FakeReceiver.start();
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const configFile = path.join(dir, "agent.toml");
  writeFileSync(configFile, `
agent_id = "no-raw"
server_endpoint = "${receiver.address}"
collection_interval_secs = 1
spool_dir = "${path.join(dir, "spool")}"

[[checks]]
name = "loopback"
type = "icmp"
target = "127.0.0.1"
port = ${(server.address() as net.AddressInfo).port}
interval_secs = 1
count = 3
probe_interval_ms = 50
timeout_ms = 900

[[checks]]
name = "loopback-2"
type = "icmp"
target = "127.0.0.2"
port = ${await refusedPort()}
interval_secs = 1
timeout_ms = 900
count = 2
`);
  const root = new URL("..", import.meta.url).pathname;
  const agent = spawn("setpriv", ["--bounding-set=-net_raw", process.execPath, "--import", "tsx", path.join(root, "agent/main.ts"), configFile, "--log-format", "json"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  agent.stdout!.on("data", (c) => (log += c));
  agent.stderr!.on("data", (c) => (log += c));
  try {
    const points = () => receiver.accepted.flatMap((c) => c.batch.data_points).filter((p) => p.metric_name === "check.up");
    await receiver.waitFor(() => new Set(points().map((p) => p.labels.check)).size === 2 || agent.exitCode !== null, 30_000, "check.up of both checks");
    for (const p of points()) {
      t.like(p, { value: 1, labels: { method: "tcp", type: "icmp" } });
    }
    const notes = log.split("\n").filter((l) => l.includes("fall back to timing TCP connects"));
    t.is(notes.length, 1, log);
    t.regex(notes[0]!, /setcap cap_net_raw\+ep/);
    t.regex(notes[0]!, /loopback.*loopback-2/);
  } finally {
    agent.kill("SIGTERM");
    if (agent.exitCode === null) await once(agent, "exit");
    await receiver.stop();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});
