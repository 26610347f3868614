import type { ControlStore } from "../storage/control-store.ts";
import { generatePassword, hashPassword } from "./passwords.ts";

/**
 * Recovery for a lost password (`tsmon-server --reset-password USER [CONFIG]`): sets a
 * generated password directly in the control store, which ends the user's sessions; a user
 * that does not exist is created as an admin. Safe while servers run: LMDB serializes it
 * with their writes. Returns the new password, which is shown once and never stored.
 */
export async function resetPassword(control: ControlStore, username: string, nowMs = Date.now()): Promise<{ password: string; created: boolean }> {
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  if (control.users.fresh(username)) {
    await control.users.update(username, { password_hash: passwordHash }, nowMs);
    return { password, created: false };
  }
  await control.users.create({ username, role: "admin", password_hash: passwordHash, token_version: 0, created_at: nowMs, updated_at: nowMs });
  return { password, created: true };
}
