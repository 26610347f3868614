import test from "ava";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { execFile } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { spawnServer, writeServerConfig } from "../scripts/lib/server-process.ts";
import { TEST_ADMIN, testAuthConfig } from "../scripts/lib/test-credentials.ts";
import { JWT_SECRET_FILE } from "../server/auth/jwt-secret.ts";
import { assertDocumented } from "./helpers/openapi.ts";
import { adminFetch, adminHeaders, startTestServer, type TestServer } from "./helpers/server.ts";
import { LiveClient } from "./helpers/ws-client.ts";

/*
 * Users, sessions, lockout and API tokens through the real HTTP API. The route × credential
 * matrix is in access.test.ts; this file follows each feature's life.
 */

const execFileAsync = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;

const jsonInit = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit =>
  ({ method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function login(server: { http: string }, username: string, password: string) {
  const res = await fetch(`${server.http}/v1/auth/login`, jsonInit("POST", { username, password }));
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() as any };
}

async function me(server: { http: string }, headers: Record<string, string>) {
  const res = await fetch(`${server.http}/v1/auth/me`, { headers });
  return { status: res.status, body: await res.json() as any };
}

async function createUser(server: TestServer, username: string, role: string, password = `Pw-for-${role}-2026`) {
  const res = await adminFetch(`${server.http}/v1/users`, jsonInit("POST", { username, password, role }));
  return { status: res.status, body: await res.json() as any, password };
}

test("login returns a session token that identifies the user; wrong or unknown credentials get the same 401", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const ok = await login(server, TEST_ADMIN.username, TEST_ADMIN.password);
  t.is(ok.status, 200);
  t.like(ok.body, { token_type: "Bearer", username: "admin", role: "admin" });
  t.true(Date.parse(ok.body.expires_at) > Date.now() + 86_000_000, "token_expire_secs defaults to a day");
  assertDocumented(t, "POST", "/v1/auth/login", 200, ok.body);
  t.deepEqual((await me(server, bearer(ok.body.token))).body, { kind: "user", username: "admin", role: "admin" });

  const wrong = await login(server, "admin", "not-the-password");
  const unknown = await login(server, "nobody", "not-the-password");
  t.is(wrong.status, 401);
  t.deepEqual(wrong.body, unknown.body, "an unknown name is not told apart from a wrong password");
  t.deepEqual(wrong.body, { error: "wrong username or password", code: "UNAUTHENTICATED" });
  t.is((await login(server, "", "x")).status, 400);
  t.is((await fetch(`${server.http}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" })).status, 400);
});

test("failures lock one address + username with 429 and Retry-After; other names and addresses are unaffected", async (t) => {
  const server = await startTestServer({ auth: { ...testAuthConfig, login_failure_threshold: 3, login_lock_duration_secs: 120 } });
  t.teardown(() => server.stop());
  t.is((await createUser(server, "vera", "viewer")).status, 201);
  t.is((await login(server, "admin", "guess-1")).status, 401);
  t.is((await login(server, "admin", "guess-2")).status, 401);
  const third = await login(server, "admin", "guess-3");
  t.is(third.status, 429);
  t.true(Number(third.retryAfter) > 100 && Number(third.retryAfter) <= 120);
  const locked = await login(server, "admin", TEST_ADMIN.password);
  t.is(locked.status, 429, "the right password waits out the lock too");
  t.regex(locked.body.error, /too many failed logins for 'admin'/);
  t.is((await login(server, "vera", "Pw-for-viewer-2026")).status, 200, "another user from the same address");
  // Another loopback address is another client.
  const fromElsewhere = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${server.http}/v1/auth/login`, { method: "POST", localAddress: "127.0.0.2", headers: { "content-type": "application/json" } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on("error", reject);
    req.end(JSON.stringify({ username: "admin", password: TEST_ADMIN.password }));
  });
  t.is(fromElsewhere, 200);
});

test("a password change needs the current password and a strong new one, and revokes every earlier session at once", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const { password } = await createUser(server, "otto", "operator");
  const first = (await login(server, "otto", password)).body.token as string;
  const second = (await login(server, "otto", password)).body.token as string;
  const change = (body: unknown, token = first) => fetch(`${server.http}/v1/auth/password`, jsonInit("POST", body, bearer(token)));

  const weak = await change({ current_password: password, new_password: "short" });
  t.is(weak.status, 400);
  t.regex((await weak.json() as any).error, /new_password: must be at least 10 characters/);
  t.regex((await (await change({ current_password: password, new_password: "alllowercaseletters" })).json() as any).error, /mix at least two/);
  t.regex((await (await change({ current_password: password, new_password: "Otto-is-my-name-1" })).json() as any).error, /must not contain the username/);
  const wrongCurrent = await change({ current_password: "not-it-at-all", new_password: "A-much-better-pw-9" });
  t.is(wrongCurrent.status, 403);

  const done = await change({ current_password: password, new_password: "A-much-better-pw-9" });
  t.is(done.status, 200);
  assertDocumented(t, "POST", "/v1/auth/password", 200, await done.json());
  for (const token of [first, second]) {
    const after = await me(server, bearer(token));
    t.is(after.status, 401);
    t.regex(after.body.error, /revoked by a password change/);
  }
  t.is((await login(server, "otto", password)).status, 401, "the old password is gone");
  const fresh = await login(server, "otto", "A-much-better-pw-9");
  t.is((await me(server, bearer(fresh.body.token))).status, 200);
  t.is((await adminFetch(`${server.http}/v1/auth/password`, jsonInit("POST", { current_password: "x", new_password: "y" }))).status, 400, "checked before the current password");
});

test("admins manage users: roles apply at once, an admin-set password signs the user out, the last admin stays", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const created = await createUser(server, "vera", "viewer");
  t.is(created.status, 201);
  assertDocumented(t, "POST", "/v1/users", 201, created.body);
  t.is((await createUser(server, "vera", "viewer")).status, 409);
  t.is((await createUser(server, "bad name", "viewer")).status, 400);
  const weak = await adminFetch(`${server.http}/v1/users`, jsonInit("POST", { username: "weak", password: "12345678901", role: "viewer" }));
  t.is(weak.status, 400);
  t.regex((await weak.json() as any).error, /^password: /);

  const list = await (await adminFetch(`${server.http}/v1/users`)).json() as any[];
  t.deepEqual(list.map((u) => [u.username, u.role]), [["admin", "admin"], ["vera", "viewer"]]);
  t.false(JSON.stringify(list).includes("scrypt"), "no password hashes leave the server");
  assertDocumented(t, "GET", "/v1/users", 200, list);

  const vera = bearer((await login(server, "vera", created.password)).body.token);
  const silence = { start_time: "01:00", end_time: "02:00", recurrence: "daily", timezone: "UTC" };
  t.is((await fetch(`${server.http}/v1/notifications/silences`, jsonInit("POST", silence, vera))).status, 403);
  const promoted = await adminFetch(`${server.http}/v1/users/vera`, jsonInit("PUT", { role: "operator" }));
  t.is(promoted.status, 200);
  assertDocumented(t, "PUT", "/v1/users/{username}", 200, await promoted.json());
  t.is((await fetch(`${server.http}/v1/notifications/silences`, jsonInit("POST", silence, vera))).status, 201, "the same token, now an operator");

  t.is((await adminFetch(`${server.http}/v1/users/vera`, jsonInit("PUT", { password: "Reset-by-admin-7" }))).status, 200);
  t.is((await me(server, vera)).status, 401, "an admin-set password signs the user out");
  const again = bearer((await login(server, "vera", "Reset-by-admin-7")).body.token);
  t.is((await adminFetch(`${server.http}/v1/users/vera`, { method: "DELETE" })).status, 204);
  t.is((await me(server, again)).status, 401, "a deleted user's session stops at once");
  t.is((await adminFetch(`${server.http}/v1/users/vera`, { method: "DELETE" })).status, 404);

  t.is((await adminFetch(`${server.http}/v1/users/admin`, jsonInit("PUT", { role: "viewer" }))).status, 409, "the only admin cannot be demoted");
  t.is((await adminFetch(`${server.http}/v1/users/admin`, { method: "DELETE" })).status, 409, "nor deleted");
  t.is((await me(server, await adminHeaders(server.http))).status, 200);
});

test("API tokens: shown once, stored hashed, bounded by the creator's role, revoked at once", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const res = await adminFetch(`${server.http}/v1/auth/tokens`, jsonInit("POST", { name: "prometheus", role: "viewer" }));
  t.is(res.status, 201);
  const created = await res.json() as any;
  assertDocumented(t, "POST", "/v1/auth/tokens", 201, created);
  t.regex(created.token, /^tsmon_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  t.like(created, { name: "prometheus", role: "viewer", created_by: "admin", expires_at: null });

  const token = bearer(created.token);
  t.deepEqual((await me(server, token)).body, { kind: "api_token", token_id: created.id, name: "prometheus", role: "viewer" });
  t.is((await fetch(`${server.http}/metrics`, { headers: token })).status, 200, "Prometheus scrapes with it");
  t.is((await fetch(`${server.http}/v1/agents/whitelist`, jsonInit("POST", { agent_id: "x" }, token))).status, 403);
  t.is((await fetch(`${server.http}/v1/auth/password`, jsonInit("POST", { current_password: "a", new_password: "b" }, token))).status, 403, "a token has no password");
  const tampered = created.token.slice(0, -1) + (created.token.endsWith("A") ? "B" : "A");
  t.is((await me(server, bearer(tampered))).status, 401);

  const list = await (await adminFetch(`${server.http}/v1/auth/tokens`)).json() as any[];
  t.deepEqual(list.map((x) => x.id), [created.id]);
  // The secret is everything after `tsmon_<id>_` (it may hold "_" itself).
  t.false(JSON.stringify(list).includes(created.token.slice("tsmon_".length + 16 + 1)), "the secret is never listed");
  assertDocumented(t, "GET", "/v1/auth/tokens", 200, list);

  const expiring = await (await adminFetch(`${server.http}/v1/auth/tokens`, jsonInit("POST", { name: "short", role: "admin", expires_in_secs: 3600 }))).json() as any;
  t.true(Math.abs(Date.parse(expiring.expires_at) - (Date.now() + 3600_000)) < 60_000);
  t.is((await fetch(`${server.http}/v1/auth/tokens`, jsonInit("POST", { name: "x", role: "viewer", expires_in_secs: 5 }, await adminHeaders(server.http)))).status, 400);

  t.is((await adminFetch(`${server.http}/v1/auth/tokens/${created.id}`, { method: "DELETE" })).status, 204);
  t.is((await me(server, token)).status, 401);
  t.regex((await me(server, token)).body.error, /unknown or revoked/);
  t.is((await adminFetch(`${server.http}/v1/auth/tokens/${created.id}`, { method: "DELETE" })).status, 404);
});

test("the live feed's WebSocket needs a credential: header or access_token query", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const url = server.http.replace("http://", "ws://") + "/v1/live";
  const refused = await LiveClient.connect(url, {}).then(() => "open", (err: Error) => err.message);
  t.regex(refused, /401/);
  t.regex(await LiveClient.connect(url, { authorization: "Bearer nope" }).then(() => "open", (err: Error) => err.message), /401/);
  const token = (await login(server, TEST_ADMIN.username, TEST_ADMIN.password)).body.token;
  const viaQuery = await LiveClient.connect(`${url}?access_token=${encodeURIComponent(token)}`, {});
  t.is((await viaQuery.next((m) => m.type === "hello")).type, "hello");
  viaQuery.close();
});

test("without a configured password the first admin's is generated and logged once; the signing key is kept in the data dir; --reset-password recovers", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-auth-first-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { file, ports } = await writeServerConfig(dir, { testAuth: false });
  const first = await spawnServer(file, ports);
  t.teardown(() => { first.child.kill("SIGKILL"); });
  const logged = /with the password {3}([A-Za-z0-9_-]{24})\n/.exec(first.output());
  t.truthy(logged, "the generated password is printed, framed");
  t.regex(first.output(), /={40,}\n {2}tsmon: created the first user 'admin'[^\n]*\n[^\n]*POST \/v1\/auth\/password\n[^\n]*tsmon-server --reset-password admin \[CONFIG\]\n={40,}/);
  t.notRegex(first.output(), new RegExp(`"password":|\\{[^\\n]*${logged![1]}`), "the password is in no JSON log line");
  const session = await login(first, "admin", logged![1]!);
  t.is(session.status, 200);
  const keyFile = path.join(dir, "data", JWT_SECRET_FILE);
  t.is(statSync(keyFile).mode & 0o777, 0o600);
  first.child.kill("SIGTERM");
  await first.exited;

  const second = await spawnServer(file, ports);
  t.teardown(() => { second.child.kill("SIGKILL"); });
  t.false(second.output().includes("generated password"), "shown only on the first start");
  t.is((await me(second, bearer(session.body.token))).status, 200, "sessions survive a restart");
  t.true(readFileSync(keyFile, "utf8").length >= 32);

  // A lost password is reset from the command line, beside the running server.
  const reset = await execFileAsync(process.execPath, ["--import", "tsx", path.join(root, "server/main.ts"), "--reset-password", "admin", file], { cwd: root });
  const fresh = /new password \(shown only now\): (\S+)/.exec(reset.stdout);
  t.truthy(fresh, reset.stdout);
  t.is((await me(second, bearer(session.body.token))).status, 401, "the reset ends the running sessions");
  t.is((await login(second, "admin", logged![1]!)).status, 401);
  t.is((await login(second, "admin", fresh![1]!)).status, 200);
  second.child.kill("SIGTERM");
  t.is(await second.exited, 0);
});

test("parallel wrong logins cannot outrun the threshold: only that many passwords are checked", async (t) => {
  const server = await startTestServer({ auth: { ...testAuthConfig, login_failure_threshold: 3, login_lock_duration_secs: 120 } });
  t.teardown(() => server.stop());
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => login(server, "admin", `guess-${i}`)));
  const statuses = results.map((r) => r.status);
  // Three attempts pass the gate (the third failure locks, so it may answer 429); every other one is refused unchecked.
  t.true(statuses.every((s) => s === 401 || s === 429), statuses.join(","));
  t.true(statuses.filter((s) => s === 401).length <= 2, statuses.join(","));
  t.is((await login(server, "admin", TEST_ADMIN.password)).status, 429, "still locked");
});

test("a user deleted and created again is another user: the old session stays dead", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const first = await createUser(server, "sam", "admin");
  const old = bearer((await login(server, "sam", first.password)).body.token);
  t.is((await adminFetch(`${server.http}/v1/users/sam`, { method: "DELETE" })).status, 204);
  t.is((await createUser(server, "sam", "viewer")).status, 201);
  const after = await me(server, old);
  t.is(after.status, 401);
  t.regex(after.body.error, /no longer exists/);
});

test("an API token stops when its creator is demoted below its role or deleted, and a new user of that name does not revive it", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const ada = await createUser(server, "ada", "admin");
  const ada_ = bearer((await login(server, "ada", ada.password)).body.token);
  const mint = async (role: string) => (await (await fetch(`${server.http}/v1/auth/tokens`, jsonInit("POST", { name: role, role }, ada_))).json() as any).token as string;
  const [adminToken, viewerToken] = [await mint("admin"), await mint("viewer")];
  t.is((await me(server, bearer(adminToken))).status, 200);
  t.is((await fetch(`${server.http}/v1/auth/tokens`, jsonInit("POST", { name: "chain", role: "viewer" }, bearer(adminToken)))).status, 403, "tokens do not mint tokens");
  t.is((await adminFetch(`${server.http}/v1/users/ada`, jsonInit("PUT", { role: "operator" }))).status, 200);
  const demoted = await me(server, bearer(adminToken));
  t.is(demoted.status, 401);
  t.regex(demoted.body.error, /creator 'ada' no longer holds its role 'admin'/);
  t.is((await me(server, bearer(viewerToken))).status, 200, "a token within the creator's role keeps working");
  t.is((await adminFetch(`${server.http}/v1/users/ada`, { method: "DELETE" })).status, 204);
  t.is((await me(server, bearer(viewerToken))).status, 401);
  // Another user named ada is not the creator: her old tokens stay dead.
  t.is((await createUser(server, "ada", "admin")).status, 201);
  const revived = await me(server, bearer(viewerToken));
  t.is(revived.status, 401);
  t.regex(revived.body.error, /creator 'ada' no longer exists/);
});

test("an open live connection is closed with 4401 when its session is revoked; a peer resetting a refused upgrade harms nothing", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const { password } = await createUser(server, "lena", "viewer");
  const token = (await login(server, "lena", password)).body.token as string;
  const url = server.http.replace("http://", "ws://") + "/v1/live";
  const live = await LiveClient.connect(url, bearer(token));
  const closed = new Promise<number>((resolve) => live.ws.once("close", (code) => resolve(code)));
  t.is((await fetch(`${server.http}/v1/auth/password`, jsonInit("POST", { current_password: password, new_password: "Rotated-pw-2026" }, bearer(token)))).status, 200);
  t.is(await closed, 4401);

  // Bad credentials, then the peer vanishes before the 401 is written: twenty times over.
  for (let i = 0; i < 20; i++) {
    const socket = net.connect(Number(new URL(server.http).port), "127.0.0.1");
    socket.on("error", () => undefined);
    socket.write(`GET /v1/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.alloc(16, i).toString("base64")}\r\n` +
      `Sec-WebSocket-Version: 13\r\nAuthorization: Bearer nope\r\n\r\n`);
    socket.resetAndDestroy();
  }
  await new Promise((r) => setTimeout(r, 300));
  t.deepEqual(server.fatal, []);
  t.is((await fetch(`${server.http}/v1/health`)).status, 200, "the server is still there");
});

test("--reset-password refuses an unknown user, and lifts the user's login lock", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-reset-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { file, ports } = await writeServerConfig(dir, { extra: "[auth]\nlogin_failure_threshold = 2\n", testAuth: false });
  const server = await spawnServer(file, ports);
  t.teardown(() => { server.child.kill("SIGKILL"); });
  const run = (user: string) => execFileAsync(process.execPath, ["--import", "tsx", path.join(root, "server/main.ts"), "--reset-password", user, file], { cwd: root })
    .then((r) => ({ code: 0, out: r.stdout }), (err) => ({ code: err.code as number, out: String(err.stderr) }));
  const typo = await run("admn");
  t.is(typo.code, 2);
  t.regex(typo.out, /no user 'admn'; users are: admin/);
  await login(server, "admin", "wrong-1");
  t.is((await login(server, "admin", "wrong-2")).status, 429);
  const reset = await run("admin");
  t.is(reset.code, 0);
  const password = /new password \(shown only now\): (\S+)/.exec(reset.out)![1]!;
  t.is((await login(server, "admin", password)).status, 200, "the lock is lifted with the reset");
  server.child.kill("SIGTERM");
  t.is(await server.exited, 0);
});
