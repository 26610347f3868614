import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnServer, writeServerConfig } from "../scripts/lib/server-process.ts";
import { TEST_ADMIN } from "../scripts/lib/test-credentials.ts";

/*
 * Two server processes on one data dir, as two PM2 instances are: what one learns about
 * sessions, tokens and lockouts, the other enforces on the very next request.
 */

const post = (base: string, p: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(base + p, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

test("a password change on one process revokes the session on the other at once; lockouts and token revocations are shared", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-auth-two-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, "data");
  const extra = `[auth]\ndefault_password = "${TEST_ADMIN.password}"\nlogin_failure_threshold = 2\nlogin_lock_duration_secs = 300\n`;
  const configA = await writeServerConfig(dir, { dataDir, fileName: "a.toml", extra, testAuth: false });
  const configB = await writeServerConfig(dir, { dataDir, fileName: "b.toml", extra, testAuth: false });
  const a = await spawnServer(configA.file, configA.ports);
  t.teardown(() => { a.child.kill("SIGKILL"); });
  const b = await spawnServer(configB.file, configB.ports);
  t.teardown(() => { b.child.kill("SIGKILL"); });

  // One generated signing key in the shared data dir: a session from A is good on B.
  const session = (await (await post(a.http, "/v1/auth/login", { username: "admin", password: TEST_ADMIN.password })).json() as any).token as string;
  t.is((await fetch(`${b.http}/v1/agents`, { headers: bearer(session) })).status, 200);

  const apiToken = (await (await post(b.http, "/v1/auth/tokens", { name: "ci", role: "viewer" }, bearer(session))).json() as any);
  t.is((await fetch(`${a.http}/v1/agents`, { headers: bearer(apiToken.token) })).status, 200);
  t.is((await fetch(`${a.http}/v1/auth/tokens/${apiToken.id}`, { method: "DELETE", headers: bearer(session) })).status, 204);
  t.is((await fetch(`${b.http}/v1/agents`, { headers: bearer(apiToken.token) })).status, 401, "revoked on A, refused by B");

  const changed = await post(a.http, "/v1/auth/password", { current_password: TEST_ADMIN.password, new_password: "Rotated-pw-2026" }, bearer(session));
  t.is(changed.status, 200);
  const onB = await fetch(`${b.http}/v1/agents`, { headers: bearer(session) });
  t.is(onB.status, 401, "the very next request on the other process");
  t.regex((await onB.json() as any).error, /revoked by a password change/);

  t.is((await post(a.http, "/v1/auth/login", { username: "admin", password: "guess-1" })).status, 401);
  t.is((await post(b.http, "/v1/auth/login", { username: "admin", password: "guess-2" })).status, 429, "failures on both processes add up");
  t.is((await post(a.http, "/v1/auth/login", { username: "admin", password: "Rotated-pw-2026" })).status, 429, "and the lock holds on both");

  for (const p of [a, b]) p.child.kill("SIGTERM");
  t.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
});
