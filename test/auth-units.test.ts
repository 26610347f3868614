import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JwtIssuer } from "../server/auth/jwt.ts";
import { JWT_SECRET_FILE, loadJwtSecret } from "../server/auth/jwt-secret.ts";
import { hashPassword, passwordProblem, verifyPassword } from "../server/auth/passwords.ts";
import { afterFailure, lockedFor } from "../server/storage/login-throttle.ts";

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
  const { token, expiresAt } = await issuer.issue({ username: "ann", version: 3 });
  t.is(expiresAt, now + 60_000);
  t.deepEqual(await issuer.verify(token), { username: "ann", version: 3 });
  t.deepEqual(await new JwtIssuer(new TextEncoder().encode("o".repeat(32)), 60, () => now).verify(token), { problem: "the token is not valid" });
  const [h, p, s] = token.split(".");
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), ver: 4 })).toString("base64url")}.${s}`;
  t.deepEqual(await issuer.verify(forged), { problem: "the token is not valid" });
  const unsigned = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${p}.`;
  t.deepEqual(await issuer.verify(unsigned), { problem: "the token is not valid" });
  now += 61_000;
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

test("login throttle: the threshold-th failure in a row locks for the lock period; old failures are forgotten", (t) => {
  const policy = { threshold: 3, lockMs: 60_000 };
  let r = afterFailure(undefined, policy, 0);
  r = afterFailure(r, policy, 1_000);
  t.is(lockedFor(r, 1_000), 0);
  r = afterFailure(r, policy, 2_000);
  t.is(lockedFor(r, 2_000), 60);
  t.is(lockedFor(r, 61_500), 1);
  t.is(lockedFor(r, 62_000), 0);
  t.is(lockedFor(afterFailure(r, policy, 62_000), 62_000), 0, "a fresh count after the lock");
  const stale = afterFailure(afterFailure(undefined, policy, 0), policy, 1_000);
  t.is(afterFailure(stale, policy, 70_000).failures, 1, "failures older than a lock period do not count");
});
