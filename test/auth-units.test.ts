import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JwtIssuer } from "../server/auth/jwt.ts";
import { JWT_SECRET_FILE, loadJwtSecret } from "../server/auth/jwt-secret.ts";
import { hashPassword, passwordProblem, verifyPassword } from "../server/auth/passwords.ts";
import { afterFailure, beginAttempt, lockedFor, LoginThrottle, type FailureRecord } from "../server/storage/login-throttle.ts";
import { Authenticator } from "../server/auth/authenticator.ts";
import { ControlStore } from "../server/storage/control-store.ts";

test("scrypt hashes: salted, self-describing, verified in constant time; a malformed hash never matches", async (t) => {
  const [h1, h2] = [await hashPassword("Correct-horse-1"), await hashPassword("Correct-horse-1")];
  t.regex(h1, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  t.not(h1, h2, "a fresh salt each time");
  t.true(await verifyPassword("Correct-horse-1", h1));
  t.false(await verifyPassword("Correct-horse-2", h1));
  t.false(await verifyPassword("Correct-horse-1", "plain-text"));
  t.false(await verifyPassword("Correct-horse-1", h1.replace("scrypt", "md5")));
});

test("password strength: length, mixed classes, variety, not the username", (t) => {
  t.is(passwordProblem("Short-1", "x"), "must be at least 10 characters");
  t.is(passwordProblem("a".repeat(257), "x"), "must be at most 256 characters");
  t.regex(passwordProblem("onlylowercase", "x")!, /two of/);
  t.regex(passwordProblem("Aa1Aa1Aa1Aa1", "x")!, /5 different/);
  t.regex(passwordProblem("Hello-alice-99", "Alice")!, /username/);
  t.is(passwordProblem("new-strong-password", "admin"), null);
});

test("session tokens: expiry, tampering and another key are refused with a reason", async (t) => {
  const key = new TextEncoder().encode("k".repeat(32));
  let now = 1_800_000_000_000;
  const issuer = new JwtIssuer(key, 60, () => now);
  const { token, expiresAt } = await issuer.issue({ username: "ann", userId: "u-1", version: 3 });
  t.is(expiresAt, now + 60_000);
  t.deepEqual(await issuer.verify(token), { username: "ann", userId: "u-1", version: 3 });
  t.deepEqual(await issuer.verify(token), { username: "ann", userId: "u-1", version: 3 }, "again (remembered now)");
  t.deepEqual(await new JwtIssuer(new TextEncoder().encode("o".repeat(32)), 60, () => now).verify(token), { problem: "the token is not valid" });
  const [h, p, s] = token.split(".");
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), ver: 4 })).toString("base64url")}.${s}`;
  t.deepEqual(await issuer.verify(forged), { problem: "the token is not valid" });
  const unsigned = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${p}.`;
  t.deepEqual(await issuer.verify(unsigned), { problem: "the token is not valid" });
  now += 59_000;
  t.like(await issuer.verify(token), { username: "ann" }, "a second before expiry");
  now += 1_000;
  t.deepEqual(await issuer.verify(token), { problem: "the token has expired; log in again" }, "a cached token expires on time");
  t.deepEqual(await issuer.verify(token), { problem: "the token has expired; log in again" });
});

test("the signing key: configured wins; else generated once into the data dir and reused", (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-jwt-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.deepEqual(loadJwtSecret("configured-secret-16", dir), new TextEncoder().encode("configured-secret-16"));
  const generated = loadJwtSecret(undefined, dir);
  t.true(generated.length >= 48);
  t.deepEqual(loadJwtSecret(undefined, dir), generated, "the same key on the next start");
  writeFileSync(path.join(dir, JWT_SECRET_FILE), "short");
  t.throws(() => loadJwtSecret(undefined, dir), { message: /shorter than 32 characters; delete it/ });
});

test("login throttle: the threshold-th failure locks; parallel attempts are counted before the check; a lock is never shortened", (t) => {
  const policy = { threshold: 3, lockMs: 60_000 };
  // Sequential: attempt (counted), wrong password, and again.
  let r: FailureRecord | undefined;
  for (const [now, lockedAfter] of [[0, 0], [1_000, 0], [2_000, 60]] as const) {
    const begun = beginAttempt(r, policy, now);
    t.is(begun.wait, 0, `attempt at ${now} may check its password`);
    r = afterFailure(begun.record, policy, now);
    t.is(lockedFor(r, now), lockedAfter);
  }
  t.is(beginAttempt(r, policy, 30_000).wait, 32, "locked: refused unchecked");
  t.is(afterFailure({ ...r!, failures: 9 }, policy, 30_000).locked_until, 62_000, "a failure while locked does not move or shorten the lock");
  t.is(beginAttempt(r, policy, 62_000).wait, 0, "a fresh count after the lock");
  t.is(beginAttempt(r, policy, 62_000).record.failures, 1);

  // Parallel: three attempts begin before any check ends; the fourth is locked out unchecked.
  let p: FailureRecord | undefined;
  const waits = [0, 1, 2, 3].map(() => { const b = beginAttempt(p, policy, 5_000); p = b.record; return b.wait; });
  t.deepEqual(waits, [0, 0, 0, 60]);

  const stale = beginAttempt(undefined, policy, 0).record;
  t.is(beginAttempt(stale, policy, 70_000).record.failures, 1, "failures older than a lock period do not count");
});

test("a user stored before user_id existed gets one when the store opens, once, and can log in with a session that is accepted", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-users-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const legacy = { username: "old", role: "admin", password_hash: await hashPassword("Old-pass-2024"), token_version: 0, created_at: 1, updated_at: 1 };
  const first = new ControlStore(dir);
  await first.env.openDB({ name: "users" }).put("old", legacy);
  await first.close();

  const control = new ControlStore(dir);
  t.teardown(() => control.close());
  const userId = control.users.fresh("old")?.user_id;
  t.regex(userId ?? "", /^[0-9a-f-]{36}$/);
  t.deepEqual({ ...control.users.fresh("old"), user_id: undefined }, { ...legacy, user_id: undefined }, "nothing else changes");
  const again = new ControlStore(dir);
  t.is(again.users.fresh("old")?.user_id, userId, "opening again keeps the id");
  await again.close();

  const issuer = new JwtIssuer(new TextEncoder().encode("k".repeat(32)), 60);
  const { token } = await issuer.issue({ username: "old", userId: userId!, version: 0 });
  const who = await new Authenticator(control.users, control.apiTokens, issuer).fromToken(token);
  t.like(who, { kind: "user", username: "old", role: "admin" });
});

test("the retention job forgets login failures that no longer count, and keeps locks and recent failures", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-throttle-"));
  const control = new ControlStore(dir);
  t.teardown(async () => { await control.close(); rmSync(dir, { recursive: true, force: true }); });
  const throttle = new LoginThrottle(control.env, { threshold: 2, lockMs: 60_000 });
  const now = 1_800_000_000_000;
  const failAt = async (ip: string, user: string, at: number) => { await throttle.begin(ip, user, at); await throttle.fail(ip, user, at); };

  await failAt("10.0.0.1", "old", now - 120_000); // one failure two minutes ago: no longer counts
  await failAt("10.0.0.2", "recent", now - 10_000); // one failure ten seconds ago
  for (let i = 0; i < 2; i++) await failAt("10.0.0.3", "locked", now - 30_000); // locked until now + 30 s
  for (let i = 0; i < 2; i++) await failAt("10.0.0.4", "was-locked", now - 180_000); // its lock ended two minutes ago
  t.is(await throttle.prune(now), 2);
  t.is(await throttle.begin("10.0.0.3", "locked", now), 30, "the lock stands");
  t.is(await throttle.prune(now), 0, "nothing else to forget");
  t.is(await throttle.begin("10.0.0.1", "old", now), 0);
});
