import { randomUUID } from "node:crypto";
import type { Logger } from "../log.ts";
import type { UserStore } from "../storage/user-store.ts";
import { generatePassword, hashPassword } from "./passwords.ts";

/**
 * On the first start (no users yet) creates the admin from `[auth] default_username` and
 * `default_password`. Without a configured password one is generated and logged this once:
 * it is never stored in clear and cannot be shown again.
 */
export async function ensureFirstAdmin(users: UserStore, auth: { default_username: string; default_password?: string | undefined }, log: Logger, nowMs = Date.now(),
  announce: (text: string) => void = (text) => process.stderr.write(text)): Promise<void> {
  if (users.list().length) return;
  const password = auth.default_password ?? generatePassword();
  const created = await users.createFirst({
    username: auth.default_username, user_id: randomUUID(), role: "admin", password_hash: await hashPassword(password), token_version: 0, created_at: nowMs, updated_at: nowMs,
  });
  if (!created) return; // another PM2 instance created it a moment ago
  if (auth.default_password === undefined) {
    // Plain text, whatever the log format or level: without it nobody could ever log in, and
    // inside a JSON line it is missed. The log records that it happened, not the password.
    announce(firstAdminBanner(auth.default_username, password));
    log.warn({ username: auth.default_username }, "created the first admin with a generated password (printed once to stderr, not logged)");
  } else {
    log.info({ username: auth.default_username }, "created the first admin from [auth] default_password; change it with POST /v1/auth/password");
  }
}

/** The framed lines that show the generated password once, with the commands that change it. */
export function firstAdminBanner(username: string, password: string): string {
  const lines = [
    `tsmon: created the first user '${username}' (admin) with the password   ${password}`,
    "shown only this once. Change it after logging in: POST /v1/auth/password",
    `lost it? print a new one (works while the server runs): tsmon-server --reset-password ${username} [CONFIG]`,
  ];
  const rule = "=".repeat(Math.max(...lines.map((l) => l.length)) + 4);
  return `\n${rule}\n${lines.map((l) => `  ${l}`).join("\n")}\n${rule}\n\n`;
}
