import test from "ava";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { pino } from "pino";
import { compareVersions, parsePublicKey, signedText, verifyRelease } from "../common/agent-release.ts";
import { AgentConfigError, buildAgentConfig } from "../agent/config.ts";
import { LAUNCH_INFO, launcherStateDir } from "../agent/update/launcher.ts";
import { openUpdateSession } from "../agent/update/session.ts";
import { decideBoot, UpdateFiles, type UpdateState } from "../agent/update/state.ts";
import { readTarGz } from "../agent/update/untar.ts";
import { until } from "./helpers/server.ts";

/* The parts of self-update below the end-to-end test: the launcher's decision, its lenient state-dir lookup, the tar reader, versions, keys, config, and the trial. */

const has = (...versions: string[]) => (v: string) => versions.includes(v);

test("decideBoot: no state runs the installed bundle; a trial is started once, and a second start without confirmation rolls back", (t) => {
  t.deepEqual(decideBoot(undefined, 1, has()), { run: null, next: undefined });
  t.deepEqual(decideBoot({ current: "2.0.0", previous: null }, 1, has("2.0.0")), { run: "2.0.0", next: undefined });

  const installed: UpdateState = { current: "2.0.0", previous: "1.0.0", trial: { version: "2.0.0" } };
  const first = decideBoot(installed, 1000, has("1.0.0", "2.0.0"));
  t.deepEqual(first, { run: "2.0.0", next: { ...installed, trial: { version: "2.0.0", startedAt: 1000 } } });

  const second = decideBoot(first.next, 2000, has("1.0.0", "2.0.0"));
  t.is(second.run, "1.0.0");
  t.deepEqual(second.next, { current: "1.0.0", previous: null, failed: { version: "2.0.0", reason: second.rolledBack!.reason, at: 2000 } });
  t.regex(second.rolledBack!.reason, /stopped before the server acknowledged a report/);

  // What the trial run said before giving up is the reason; a previous that is gone means the installed bundle.
  const gaveUp: UpdateState = { current: "2.0.0", previous: "1.0.0", trial: { version: "2.0.0", startedAt: 5, outcome: "no report acknowledged within 120 s of starting" } };
  t.like(decideBoot(gaveUp, 9, has("2.0.0")), { run: null, rolledBack: { from: "2.0.0", to: null, reason: "no report acknowledged within 120 s of starting" } });
  // A current bundle that vanished is rolled back from as well.
  t.like(decideBoot({ current: "2.0.0", previous: null }, 9, has()), { run: null, next: { current: null, failed: { version: "2.0.0", reason: "its bundle is missing from the state directory" } } });
});

test("launcherStateDir: flag, then TSMON_AGENT_STATE_DIR, then the file's state_dir, then the default; fields it does not know are no obstacle", (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-launcher-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "agent.toml");
  writeFileSync(file, `state_dir = "/srv/agent"\nsome_field_of_a_newer_agent = 3\n[[checks]]\nname = "x"\n`);
  t.is(launcherStateDir([file], {}), "/srv/agent");
  t.is(launcherStateDir(["--interval", "0.2", "--tls", file, "--agent-id", "a"], {}), "/srv/agent", "values of flags are not the file");
  t.is(launcherStateDir([file], { TSMON_AGENT_STATE_DIR: "/env" }), "/env");
  t.is(launcherStateDir([file, "--state-dir", "/flag"], { TSMON_AGENT_STATE_DIR: "/env" }), "/flag");
  t.is(launcherStateDir(["--state-dir=/eq", file], {}), "/eq");
  t.is(launcherStateDir([], { STATE_DIRECTORY: "/run/sd:/other" }), "/run/sd", "systemd's StateDirectory=");
  t.is(launcherStateDir([path.join(dir, "missing.toml")], { STATE_DIRECTORY: "/run/sd" }), "/run/sd", "a file it cannot read is the agent's to report");
});

test("readTarGz: reads what tar writes (GNU long names too); refuses paths out of the bundle and links", (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-untar-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const src = path.join(dir, "src");
  const long = `${"n".repeat(120)}.mjs`;
  mkdirSync(path.join(src, "chunks"), { recursive: true });
  writeFileSync(path.join(src, "tsmon-agent.mjs"), "console.log(1)\n");
  writeFileSync(path.join(src, "chunks", long), Buffer.alloc(3000, 7));
  execFileSync("tar", ["-czf", path.join(dir, "ok.tgz"), "-C", src, "."]);
  const files = readTarGz(readFileSync(path.join(dir, "ok.tgz")));
  t.deepEqual(files.map((f) => f.name).sort(), [`chunks/${long}`, "tsmon-agent.mjs"]);
  t.true(files.find((f) => f.name === `chunks/${long}`)!.data.equals(Buffer.alloc(3000, 7)));

  symlinkSync("/etc/passwd", path.join(src, "link"));
  execFileSync("tar", ["-czf", path.join(dir, "link.tgz"), "-C", src, "."]);
  t.throws(() => readTarGz(readFileSync(path.join(dir, "link.tgz"))), { message: /type '2' \(links and devices are not part of a bundle\)/ });

  const header = Buffer.alloc(512);
  header.write("../evil.mjs", 0);
  header.write("0000001\0", 124);
  header.write("0", 156);
  t.throws(() => readTarGz(gzipSync(Buffer.concat([header, Buffer.alloc(512, 0x41), Buffer.alloc(1024)]))), { message: /points outside the bundle/ });
  t.throws(() => readTarGz(Buffer.from("not gzip")), { message: /incorrect header check/ });
});

test("versions compare as semver; signatures cover version, hash and size; keys as PEM or its base64 line", (t) => {
  const order = ["0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0"];
  for (let i = 1; i < order.length; i++) t.true(compareVersions(order[i - 1]!, order[i]!) < 0, `${order[i - 1]} < ${order[i]}`);
  t.is(compareVersions("1.2.3", "1.2.3"), 0);

  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const release = { version: "1.2.3", sha256: "a".repeat(64), size: 10, signature: sign(null, signedText("1.2.3", "a".repeat(64), 10), privateKey).toString("base64") };
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const line = pem.split("\n")[1]!;
  for (const text of [pem, line]) t.true(verifyRelease(parsePublicKey(text), release));
  t.false(verifyRelease(publicKey, { ...release, version: "1.2.4" }), "the version is signed");
  t.false(verifyRelease(publicKey, { ...release, size: 11 }), "the size is signed");
  t.false(verifyRelease(publicKey, { ...release, signature: "AAAA" }), "a short signature is no signature");
  t.throws(() => parsePublicKey("hello"), { message: /not a PEM public key nor the base64 of one/ });
  const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }).toString();
  t.throws(() => parsePublicKey(rsa), { message: /an rsa key; an ed25519 key is needed/ });
});

test("agent config: update fields, their defaults and their problems", (t) => {
  const key = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" }).toString("base64");
  t.like(buildAgentConfig({ server_endpoint: "grpc://10.0.1.100:9090", state_dir: "/s", update_public_key: key }).update,
    { publicKey: key, auto: true, checkHours: 24, trialSecs: 120, url: "http://10.0.1.100:8080" });
  t.like(buildAgentConfig({ server_endpoint: "grpcs://[::1]:9443", state_dir: "/s" }).update, { url: "https://[::1]:8080" });
  t.like(buildAgentConfig({ server_endpoint: "https://mon.example:8443", state_dir: "/s" }).update, { url: "https://mon.example:8443" }, "the REST port itself");
  t.like(buildAgentConfig({ update_url: "http://mon:8080/", auto_update: false, update_check_hours: 0.5, update_trial_secs: 30, state_dir: "/s" }).update,
    { url: "http://mon:8080", auto: false, checkHours: 0.5, trialSecs: 30 });
  const err = t.throws(() => buildAgentConfig({ update_public_key: "nope", update_url: "mon:8080", auto_update: "yes", update_check_hours: 0, update_trial_secs: -1 }), { instanceOf: AgentConfigError })!;
  t.deepEqual(err.problems.map((p) => p.split(":")[0]), ["update_public_key", "update_url", "auto_update", "update_check_hours", "update_trial_secs"]);
  t.regex(err.problems[0]!, /not an ed25519 public key: paste the PEM, or its base64 line/);
});

test.serial("a version on trial confirms itself once a report is acknowledged, and gives up (exit to roll back) when none is within update_trial_secs", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-trial-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files = new UpdateFiles(dir);
  for (const v of ["1.0.0", "2.0.0", "0.9.0"]) {
    mkdirSync(files.bundleDir(v), { recursive: true });
    writeFileSync(path.join(files.bundleDir(v), "tsmon-agent.mjs"), "");
  }
  const config = buildAgentConfig({ state_dir: dir, update_trial_secs: 1, auto_update: false });
  const log = pino({ level: "silent" });
  const onTrial = (): UpdateState => ({ current: "2.0.0", previous: "1.0.0", trial: { version: "2.0.0", startedAt: 1 }, failed: { version: "1.5.0", reason: "earlier", at: 0 } });
  (globalThis as Record<symbol, unknown>)[LAUNCH_INFO] = { stateDir: dir, running: "2.0.0" };
  t.teardown(() => delete (globalThis as Record<symbol, unknown>)[LAUNCH_INFO]);

  files.write(onTrial());
  let sent = 0, restarts = 0;
  const confirming = openUpdateSession(config, log, "2.0.0");
  t.deepEqual(confirming.failure, { version: "1.5.0", reason: "earlier" }, "reported until a later update is confirmed");
  const run = confirming.start({ stats: () => ({ sent }) }, () => restarts++);
  sent = 1;
  await until("the trial confirmed", async () => (files.read()?.trial === undefined ? true : undefined), 5_000);
  run.stop();
  t.deepEqual(files.read(), { current: "2.0.0", previous: "1.0.0" });
  t.false(existsSync(files.bundleDir("0.9.0")), "bundles other than current and previous are removed");
  t.true(files.hasBundle("1.0.0"));
  t.is(restarts, 0);

  files.write(onTrial());
  const silent = openUpdateSession(config, log, "2.0.0").start({ stats: () => ({ sent: 0 }) }, () => restarts++);
  await until("the trial given up", async () => (restarts > 0 ? true : undefined), 10_000);
  silent.stop();
  t.is(files.read()!.trial!.outcome, "no report acknowledged within 1 s of starting");
  t.like(decideBoot(files.read(), 5, (v) => files.hasBundle(v)), { run: "1.0.0", rolledBack: { from: "2.0.0", reason: "no report acknowledged within 1 s of starting" } });
});
