import { randomUUID } from "node:crypto";
import { TsmonError } from "../../common/errors.ts";
import type { ControlStore } from "../storage/control-store.ts";
import { clearLoginFailures } from "../storage/login-throttle.ts";
import { generatePassword, hashPassword } from "./passwords.ts";

/**
 * Recovery for a lost password (`tsmon-server --reset-password USER [CONFIG]`): sets a
 * generated password directly in the control store, which ends the user's sessions, and
 * lifts the user's login locks. Only an existing user, unless there are no users at all
 * (then USER is created as the admin): a typo must not mint a new admin. Safe while servers
 * run: LMDB serializes it with their writes. Returns the password, shown once, never stored.
 */
export async function resetPassword(control: ControlStore, username: string, nowMs = Date.now()): Promise<{ password: string; created: boolean }> {
  const users = control.users.list();
  const exists = users.some((u) => u.username === username);
  if (!exists && users.length) {
    throw new TsmonError("NOT_FOUND", `no user '${username}'; users are: ${users.map((u) => u.username).join(", ")}`);
  }
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  if (exists) await control.users.update(username, { password_hash: passwordHash }, nowMs);
  else await control.users.create({ username, user_id: randomUUID(), role: "admin", password_hash: passwordHash, token_version: 0, created_at: nowMs, updated_at: nowMs });
  await clearLoginFailures(control.env, username);
  return { password, created: !exists };
}
