import test from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { signedText } from "../common/agent-release.ts";
// @ts-expect-error: a plain .mjs module without types
import { buildAgent, packAgent } from "../scripts/build-agent.mjs";
import { adminFetch, startTestServer, until, type TestServer } from "./helpers/server.ts";

/*
 * Self-update end to end: two builds of the agent bundle (1.0.0 installed, 2.0.0 uploaded),
 * a real server signing and serving releases, the agent run through its launcher
 * (bin/tsmon-agent.js) with this test as the supervisor that starts it again after each
 * exit. Upgrade; tampered releases refused (hash, signature); a 3.0.0 that exits at once
 * is rolled back, and the server's /v1/agents shows the failed version.
 */

const root = new URL("..", import.meta.url).pathname;
const EXIT_UPDATE = 75;

interface Builds { work: string; install: string; v2: string; v3: string }

/** 1.0.0 installed as a release is (bin/ + dist/); 2.0.0 packed; 3.0.0: 2.0.0 whose entry exits at once. */
async function buildAll(work: string): Promise<Builds> {
  const install = path.join(work, "install");
  cpSync(path.join(root, "bin"), path.join(install, "bin"), { recursive: true });
  await buildAgent({ outdir: path.join(install, "dist"), version: "1.0.0" });
  const v2dir = path.join(work, "v2");
  await buildAgent({ outdir: v2dir, version: "2.0.0" });
  const v2 = packAgent(v2dir, path.join(work, "v2.tar.gz"));
  writeFileSync(path.join(v2dir, "tsmon-agent.mjs"), "process.stderr.write('3.0.0: exiting at once\\n');\nprocess.exit(3);\n");
  const v3 = packAgent(v2dir, path.join(work, "v3.tar.gz"));
  return { work, install, v2, v3 };
}

async function upload(server: TestServer, version: string, file: string): Promise<void> {
  const res = await adminFetch(`${server.http}/v1/agent/releases?version=${version}`, { method: "POST", headers: { "content-type": "application/gzip" }, body: readFileSync(file) });
  if (res.status !== 201) throw new Error(`upload ${version}: ${res.status} ${await res.text()}`);
}

interface AgentRun { child: ChildProcess; output: () => string; exit: Promise<number | null> }

/** One start of the agent, as systemd or PM2 would: `node bin/tsmon-agent.js agent.toml`. */
function startAgent(b: Builds, config: string, runs: AgentRun[]): AgentRun {
  const child = spawn(process.execPath, [path.join(b.install, "bin/tsmon-agent.js"), config], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const run = { child, output: () => out, exit };
  runs.push(run);
  return run;
}

async function agentRow(server: TestServer, id: string): Promise<any> {
  const list = await (await adminFetch(`${server.http}/v1/agents`)).json() as any[];
  return list.find((a) => a.agent_id === id);
}

test("upgrade 1.0.0 → 2.0.0; tampered releases refused; a 3.0.0 that exits at once is rolled back and reported", async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), "tsmon-agent-update-"));
  const runs: AgentRun[] = [];
  let server: TestServer | undefined;
  try {
    const builds = await buildAll(work);
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const keyFile = path.join(work, "release.key");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
    server = await startTestServer({ require_agent_auth: true, updates: { signing_key_file: keyFile } });
    const srv = server;
    const wl = await (await adminFetch(`${srv.http}/v1/agents/whitelist`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ agent_id: "upd-1" }) })).json() as { token: string };
    const stateDir = path.join(work, "state");
    const config = path.join(work, "agent.toml");
    writeFileSync(config, [
      `agent_id = "upd-1"`, `server_endpoint = "grpc://${srv.grpc}"`, `auth_token = "${wl.token}"`, `collection_interval_secs = 0.2`,
      `state_dir = "${stateDir}"`, `log_format = "json"`,
      `update_public_key = "${publicKey.export({ type: "spki", format: "der" }).toString("base64")}"`,
      `update_url = "${srv.http}"`, `update_check_hours = 0.0005`, `update_trial_secs = 30`, "",
    ].join("\n"));
    const explain = async () => `runs:\n${runs.map((r, i) => `--- run ${i} (exit ${r.child.exitCode})\n${r.output()}`).join("\n")}`;

    // Upgrade: 1.0.0 finds 2.0.0, installs it and exits 75; started again, it is 2.0.0.
    await upload(srv, "2.0.0", builds.v2);
    const first = startAgent(builds, config, runs);
    t.is(await first.exit, EXIT_UPDATE, first.output());
    t.regex(first.output(), /"from":"1\.0\.0","to":"2\.0\.0".*self-update installed/);
    const second = startAgent(builds, config, runs);
    await until("the agent reporting as 2.0.0", async () => ((await agentRow(srv, "upd-1"))?.agent_version === "2.0.0" ? true : undefined), 60_000, explain);
    await until("2.0.0 confirmed", async () => (/self-update confirmed/.test(second.output()) ? true : undefined), 30_000, explain);
    const state = () => JSON.parse(readFileSync(path.join(stateDir, "update/state.json"), "utf8"));
    t.like(state(), { current: "2.0.0", previous: null });
    t.is(state().trial, undefined);

    // Tampered: 2.1.0's stored bundle altered (same size), then 2.2.0's signature replaced by another key's.
    await upload(srv, "2.1.0", builds.v2);
    const stored = path.join(srv.dataDir, "agent-releases");
    const bytes = readFileSync(path.join(stored, "2.1.0.tar.gz"));
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    writeFileSync(path.join(stored, "2.1.0.tar.gz"), bytes);
    await until("the hash mismatch refused", async () => (/self-update refused: sha256 mismatch/.test(second.output()) ? true : undefined), 30_000, explain);
    await upload(srv, "2.2.0", builds.v2);
    const meta = JSON.parse(readFileSync(path.join(stored, "2.2.0.json"), "utf8"));
    const other = generateKeyPairSync("ed25519").privateKey;
    meta.signature = sign(null, signedText(meta.version, meta.sha256, meta.size), other).toString("base64");
    writeFileSync(path.join(stored, "2.2.0.json"), JSON.stringify(meta));
    await until("the bad signature refused", async () => (/self-update refused: signature does not verify/.test(second.output()) ? true : undefined), 30_000, explain);
    t.regex(second.output(), /still running 2\.0\.0/);
    t.is(second.child.exitCode, null, "the agent keeps running the old version");
    t.like(state(), { current: "2.0.0" });
    t.false(existsSync(path.join(stateDir, "update/bundles/2.1.0")), "nothing of a refused release is kept");
    const seenBefore = (await agentRow(srv, "upd-1")).last_seen;
    await until("2.0.0 still reporting", async () => ((await agentRow(srv, "upd-1")).last_seen > seenBefore ? true : undefined), 30_000, explain);

    // Rollback: 3.0.0 installed, then exits at once; the next start is back on 2.0.0 and says why.
    await upload(srv, "3.0.0", builds.v3);
    t.is(await second.exit, EXIT_UPDATE, second.output());
    const third = startAgent(builds, config, runs);
    t.is(await third.exit, 3, "3.0.0 exits at once");
    t.regex(third.output(), /3\.0\.0: exiting at once/);
    const fourth = startAgent(builds, config, runs);
    const row = await until("/v1/agents showing the failed update", async () => {
      const a = await agentRow(srv, "upd-1");
      return a?.failed_update?.version === "3.0.0" ? a : undefined;
    }, 60_000, explain);
    t.is(row.agent_version, "2.0.0");
    t.regex(row.failed_update.reason, /stopped before the server acknowledged a report/);
    t.regex(fourth.output(), /"failedVersion":"3\.0\.0","runningVersion":"2\.0\.0".*rolled back a failed self-update/);
    t.like(state(), { current: "2.0.0", failed: { version: "3.0.0" } });
    await until("3.0.0 not installed again", async () => (/not installing a release that was rolled back here/.test(fourth.output()) ? true : undefined), 30_000, explain);
    t.is(fourth.child.exitCode, null, "2.0.0 keeps running");

    fourth.child.kill("SIGTERM");
    t.is(await fourth.exit, 0);
  } finally {
    for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) { r.child.kill("SIGKILL"); await r.exit; }
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

/** A release's signature by `key`, as an admin makes it with openssl (docs/agent-update.md). */
function presign(key: KeyObject, version: string, bundle: Buffer): string {
  return sign(null, signedText(version, createHash("sha256").update(bundle).digest("hex"), bundle.length), key).toString("base64");
}

const GZ = { "content-type": "application/gzip" };

test("POST /v1/agent/releases refuses bad input plainly; pre-signed uploads are verified; agents read with their token", async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), "tsmon-agent-release-api-"));
  const servers: TestServer[] = [];
  try {
    const { privateKey } = generateKeyPairSync("ed25519");
    const keyFile = path.join(work, "release.key");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
    const srv = await startTestServer({ require_agent_auth: true, updates: { signing_key_file: keyFile, max_bundle_bytes: 4096 } });
    servers.push(srv);
    const bundle = gzipSync(Buffer.from("not really a tar, but gzip"));
    const post = (query: string, body: Buffer | string, headers: Record<string, string> = GZ) =>
      adminFetch(`${srv.http}/v1/agent/releases${query}`, { method: "POST", headers, body: typeof body === "string" ? body : new Uint8Array(body) });
    const expectError = async (res: Response, status: number, message: RegExp) => {
      const body = await res.json() as { error: string };
      t.is(res.status, status, body.error);
      t.regex(body.error, message);
    };

    t.is((await fetch(`${srv.http}/v1/agent/releases/latest`)).status, 401, "require_agent_auth: no token, no release");
    await expectError(await adminFetch(`${srv.http}/v1/agent/releases/latest`), 404, /no agent release on this server yet/);
    await expectError(await fetch(`${srv.http}/v1/agent/releases?version=1.0.0`, { method: "POST", headers: GZ, body: bundle }), 401, /./);
    const operator = await (await adminFetch(`${srv.http}/v1/auth/tokens`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "ci", role: "operator" }) })).json() as { token: string };
    await expectError(await fetch(`${srv.http}/v1/agent/releases?version=1.0.0`, { method: "POST", headers: { ...GZ, authorization: `Bearer ${operator.token}` }, body: bundle }), 403, /needs 'admin'/);
    await expectError(await post("", bundle), 400, /^version: required/);
    await expectError(await post("?version=1.0", bundle), 400, /^version: '1\.0' is not a version like 1\.4\.0/);
    await expectError(await post("?version=1.0.0", bundle, { "content-type": "application/json" }), 415, /content-type: application\/gzip/);
    await expectError(await post("?version=1.0.0", "plain text, not gzip", { "content-type": "application/octet-stream" }), 400, /^body: not gzip data/);
    await expectError(await post("?version=1.0.0", Buffer.alloc(0)), 400, /^body: empty/);
    await expectError(await post("?version=1.0.0", Buffer.alloc(5000, 0x1f)), 413, /max_bundle_bytes \(4096 bytes\)/);
    const other = generateKeyPairSync("ed25519").privateKey;
    await expectError(await post("?version=1.0.0", bundle, { ...GZ, "x-tsmon-signature": presign(other, "1.0.0", bundle) }), 400, /^x-tsmon-signature: does not verify/);

    // Pre-signed with the server's own key: verified; server-signed: signed by it. Versions are immutable.
    const ok = await post("?version=1.0.0", bundle, { ...GZ, "x-tsmon-signature": presign(privateKey, "1.0.0", bundle) });
    t.is(ok.status, 201);
    t.like(await ok.json(), { version: "1.0.0", size: bundle.length, signed_by: "uploader-verified", url: "/v1/agent/releases/1.0.0/bundle.tar.gz" });
    t.is((await post("?version=1.2.0-rc.1", bundle)).status, 201);
    await expectError(await post("?version=1.0.0", bundle), 409, /already stored; releases are immutable/);
    const list = await (await adminFetch(`${srv.http}/v1/agent/releases`)).json() as { version: string; signed_by: string }[];
    t.deepEqual(list.map((r) => [r.version, r.signed_by]), [["1.2.0-rc.1", "server"], ["1.0.0", "uploader-verified"]]);

    // An agent's whitelist token reads the latest release and its bundle; a wrong token does not.
    const wl = await (await adminFetch(`${srv.http}/v1/agents/whitelist`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ agent_id: "reader" }) })).json() as { token: string };
    const asAgent = { authorization: `Bearer ${wl.token}` };
    const latest = await (await fetch(`${srv.http}/v1/agent/releases/latest`, { headers: asAgent })).json() as { version: string; url: string; signature: string };
    t.is(latest.version, "1.2.0-rc.1");
    const downloaded = Buffer.from(await (await fetch(`${srv.http}${latest.url}`, { headers: asAgent })).arrayBuffer());
    t.true(downloaded.equals(bundle));
    t.is((await fetch(`${srv.http}${latest.url}`, { headers: { authorization: "Bearer not-a-token" } })).status, 401);
    await expectError(await fetch(`${srv.http}/v1/agent/releases/9.9.9/bundle.tar.gz`, { headers: asAgent }), 404, /no agent release '9\.9\.9'/);

    // A server without a signing key takes only pre-signed uploads (unverified without a public key).
    const bare = await startTestServer();
    servers.push(bare);
    await expectError(await adminFetch(`${bare.http}/v1/agent/releases?version=1.0.0`, { method: "POST", headers: GZ, body: bundle }), 400, /^x-tsmon-signature: required: this server has no \[updates\] signing_key_file/);
    const unverified = await adminFetch(`${bare.http}/v1/agent/releases?version=1.0.0`, { method: "POST", headers: { ...GZ, "x-tsmon-signature": presign(other, "1.0.0", bundle) }, body: new Uint8Array(bundle) });
    t.like(await unverified.json(), { signed_by: "uploader-unverified" });
    t.is((await fetch(`${bare.http}/v1/agent/releases/latest`)).status, 200, "without require_agent_auth agents read releases with no credential");
  } finally {
    for (const s of servers) await s.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
