import type { ServerConfig } from "../config/load.ts";
import type { Logger } from "../log.ts";
import type { ControlStore } from "../storage/control-store.ts";
import { LoginThrottle } from "../storage/login-throttle.ts";
import { Authenticator } from "./authenticator.ts";
import { ensureFirstAdmin } from "./first-admin.ts";
import { JwtIssuer } from "./jwt.ts";
import { loadJwtSecret } from "./jwt-secret.ts";

/** The parts of authentication the HTTP layer uses. */
export interface Auth {
  authenticator: Authenticator;
  sessions: JwtIssuer;
  throttle: LoginThrottle;
}

/** Loads the signing key, creates the first admin if needed, and wires the parts. */
export async function startAuth(config: ServerConfig, control: ControlStore, log: Logger): Promise<Auth> {
  const settings = config.auth;
  const sessions = new JwtIssuer(loadJwtSecret(settings.jwt_secret, config.data_dir), settings.token_expire_secs);
  await ensureFirstAdmin(control.users, settings, log);
  return {
    sessions,
    authenticator: new Authenticator(control.users, control.apiTokens, sessions),
    throttle: new LoginThrottle(control.env, { threshold: settings.login_failure_threshold, lockMs: settings.login_lock_duration_secs * 1000 }),
  };
}
