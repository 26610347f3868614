import { TsmonError } from "../../common/errors.ts";
import { API_TOKEN_PREFIX, type ApiTokenStore } from "../storage/api-token-store.ts";
import type { UserStore } from "../storage/user-store.ts";
import type { JwtIssuer } from "./jwt.ts";
import { roleAllows, type Identity } from "./roles.ts";

const HOW = "send 'Authorization: Bearer <token>' with a token from POST /v1/auth/login or an API token";

/**
 * Turns a bearer credential into an Identity: a session JWT (checked against the user as
 * stored now: deleted users and pre-password-change tokens are refused, and role changes
 * apply at once) or an API token. Everything else is UNAUTHENTICATED with the reason.
 */
export class Authenticator {
  constructor(private readonly users: UserStore, private readonly tokens: ApiTokenStore, private readonly jwt: JwtIssuer, private readonly now: () => number = Date.now) {}

  async authenticate(authorization: string | undefined): Promise<Identity> {
    if (!authorization) throw new TsmonError("UNAUTHENTICATED", `authentication required: ${HOW}`);
    const m = /^Bearer +(\S+)$/i.exec(authorization.trim());
    if (!m) throw new TsmonError("UNAUTHENTICATED", `malformed Authorization header: ${HOW}`);
    return this.fromToken(m[1]!);
  }

  async fromToken(token: string): Promise<Identity> {
    if (token.startsWith(API_TOKEN_PREFIX)) {
      const record = this.tokens.verify(token, this.now());
      if ("problem" in record) throw new TsmonError("UNAUTHENTICATED", record.problem);
      const creator = this.users.fresh(record.created_by);
      // Matched by id, not name: a creator deleted and created again does not revive old tokens.
      if (!creator || (record.created_by_user_id !== undefined && creator.user_id !== record.created_by_user_id)) {
        throw new TsmonError("UNAUTHENTICATED", `the API token's creator '${record.created_by}' no longer exists; create a new token`);
      }
      if (!roleAllows(creator.role, record.role)) {
        throw new TsmonError("UNAUTHENTICATED", `the API token's creator '${record.created_by}' no longer holds its role '${record.role}'; create a new token`);
      }
      return { kind: "api_token", tokenId: record.id, name: record.name, role: record.role };
    }
    const claims = await this.jwt.verify(token);
    if ("problem" in claims) throw new TsmonError("UNAUTHENTICATED", claims.problem);
    const user = this.users.fresh(claims.username);
    if (!user || user.user_id !== claims.userId) throw new TsmonError("UNAUTHENTICATED", "the token's user no longer exists");
    if (user.token_version !== claims.version) throw new TsmonError("UNAUTHENTICATED", "the token was revoked by a password change; log in again");
    return { kind: "user", username: user.username, userId: user.user_id, role: user.role };
  }
}
