import { randomUUID } from "node:crypto";
import type { Logger } from "../log.ts";
import type { UserStore } from "../storage/user-store.ts";
import { generatePassword, hashPassword } from "./passwords.ts";

/**
 * On the first start (no users yet) creates the admin from `[auth] default_username` and
 * `default_password`. Without a configured password one is generated and logged this once:
 * it is never stored in clear and cannot be shown again.
 */
export async function ensureFirstAdmin(users: UserStore, auth: { default_username: string; default_password?: string | undefined }, log: Logger, nowMs = Date.now()): Promise<void> {
  if (users.list().length) return;
  const password = auth.default_password ?? generatePassword();
  const created = await users.createFirst({
    username: auth.default_username, user_id: randomUUID(), role: "admin", password_hash: await hashPassword(password), token_version: 0, created_at: nowMs, updated_at: nowMs,
  });
  if (!created) return; // another PM2 instance created it a moment ago
  if (auth.default_password === undefined) {
    const msg = "created the first admin with a generated password, shown only this once: log in and change it with POST /v1/auth/password";
    // Shown even when the log level hides warnings: without it nobody could ever log in.
    if (log.isLevelEnabled("warn")) log.warn({ username: auth.default_username, password }, msg);
    else process.stderr.write(`${msg}: username '${auth.default_username}', password '${password}'\n`);
  } else {
    log.info({ username: auth.default_username }, "created the first admin from [auth] default_password; change it with POST /v1/auth/password");
  }
}
