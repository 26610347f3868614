import { Router } from "@koa/router";
import type { Context } from "koa";
import { TsmonError } from "../../../common/errors.ts";
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from "../../auth/passwords.ts";
import type { Identity } from "../../auth/roles.ts";
import type { ApiTokenRecord } from "../../storage/api-token-store.ts";
import { identityOf } from "../access.ts";
import { readJsonBody } from "../body.ts";
import type { HttpDeps } from "../context.ts";
import { badRequest } from "../errors.ts";
import { ApiTokenCreate, LoginRequest, PasswordChange } from "../openapi/auth-schemas.ts";
import { parseBody } from "../parse-body.ts";

const iso = (ms: number) => new Date(ms).toISOString();

export const tokenView = (t: ApiTokenRecord) => ({
  id: t.id, name: t.name, role: t.role, created_by: t.created_by, created_at: iso(t.created_at), expires_at: t.expires_at === null ? null : iso(t.expires_at),
});

export function authRouter(deps: Pick<HttpDeps, "auth" | "config" | "control" | "now">): Router {
  const router = new Router();
  // Looked up per request: the routers are also built without a server, to list the routes.
  const users = () => deps.control.users;
  const apiTokens = () => deps.control.apiTokens;
  const body = async (ctx: Context) => readJsonBody(ctx, deps.config.http.body_limit_bytes);

  const locked = (ctx: Context, username: string, wait: number) => {
    ctx.set("Retry-After", String(wait));
    return new TsmonError("RESOURCE_EXHAUSTED", `too many failed logins for '${username}' from this address; try again in ${wait} s`);
  };
  /**
   * Checks a password under the login throttle: the attempt is counted before the (slow)
   * check, so parallel guesses cannot slip past the threshold; a success clears the count.
   */
  const checkPassword = async (ctx: Context, username: string, password: string, hash: string | undefined) => {
    const wait = await deps.auth.throttle.begin(ctx.ip, username, deps.now());
    if (wait > 0) throw locked(ctx, username, wait);
    // A missing user costs the same scrypt as a wrong password: timing tells no names.
    const ok = await verifyPassword(password, hash ?? await decoyHash()) && hash !== undefined;
    if (ok) {
      await deps.auth.throttle.succeed(ctx.ip, username);
      return true;
    }
    const lockedNow = await deps.auth.throttle.fail(ctx.ip, username, deps.now());
    if (lockedNow > 0) throw locked(ctx, username, lockedNow);
    return false;
  };

  /**
   * @openapi
   * /v1/auth/login:
   *   post:
   *     summary: Log in; returns a session token (JWT) for the Authorization header.
   *     description: After `[auth] login_failure_threshold` failures for one address and username, that pair is locked for `login_lock_duration_secs` (429 with Retry-After).
   *     tags: [auth]
   *     security: []
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/LoginRequest' } } } }
   *     responses:
   *       200: { description: Logged in., content: { application/json: { schema: { $ref: '#/components/schemas/LoginResponse' } } } }
   *       400: { description: Invalid body., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       401: { description: Wrong username or password., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       429: { description: Locked after too many failures; see Retry-After., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/v1/auth/login", async (ctx) => {
    const { username, password } = parseBody(LoginRequest, await body(ctx));
    const user = users().fresh(username);
    const ok = await checkPassword(ctx, username, password, user?.password_hash);
    if (!user || !ok) throw new TsmonError("UNAUTHENTICATED", "wrong username or password");
    const { token, expiresAt } = await deps.auth.sessions.issue({ username: user.username, userId: user.user_id, version: user.token_version });
    ctx.body = { token, token_type: "Bearer", expires_at: iso(expiresAt), username: user.username, role: user.role };
  });

  /**
   * @openapi
   * /v1/auth/password:
   *   post:
   *     summary: Change the logged-in user's password; every session token issued before is revoked at once.
   *     tags: [auth]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/PasswordChange' } } } }
   *     responses:
   *       200: { description: "Changed; log in again.", content: { application/json: { schema: { $ref: '#/components/schemas/Identity' } } } }
   *       400: { description: Invalid body or a weak new password., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       401: { description: No valid session., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       403: { description: "The current password is wrong, or the caller is an API token.", content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       429: { description: Locked after too many wrong current passwords., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.post("/v1/auth/password", async (ctx) => {
    const who = identityOf(ctx) as Extract<Identity, { kind: "user" }>;
    const change = parseBody(PasswordChange, await body(ctx));
    const problem = passwordProblem(change.new_password, who.username);
    if (problem) throw badRequest("new_password", problem);
    if (change.new_password === change.current_password) throw badRequest("new_password", "must differ from the current password");
    const user = users().fresh(who.username);
    if (!user || !(await checkPassword(ctx, who.username, change.current_password, user.password_hash))) {
      throw new TsmonError("PERMISSION_DENIED", "current_password is wrong");
    }
    await users().update(who.username, { password_hash: await hashPassword(change.new_password) }, deps.now());
    ctx.body = { kind: "user", username: who.username, role: user.role };
  });

  /**
   * @openapi
   * /v1/auth/me:
   *   get:
   *     summary: Who the credential belongs to, and its role.
   *     tags: [auth]
   *     responses:
   *       200: { description: The caller., content: { application/json: { schema: { $ref: '#/components/schemas/Identity' } } } }
   *       401: { description: No valid credential., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/auth/me", (ctx) => {
    const who = identityOf(ctx);
    ctx.body = who.kind === "user"
      ? { kind: who.kind, username: who.username, role: who.role }
      : { kind: who.kind, token_id: who.tokenId, name: who.name, role: who.role };
  });

  /**
   * @openapi
   * /v1/auth/tokens:
   *   get:
   *     summary: API tokens (their secrets are never listed).
   *     tags: [auth]
   *     responses:
   *       200: { description: Tokens., content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/ApiToken' } } } } }
   *   post:
   *     summary: Create an API token for automation; the token is returned this once. It works while its creator exists with at least its role.
   *     tags: [auth]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/ApiTokenCreate' } } } }
   *     responses:
   *       201: { description: "Created; keep the token.", content: { application/json: { schema: { $ref: '#/components/schemas/ApiTokenCreated' } } } }
   *       400: { description: Invalid body., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       403: { description: Called with an API token instead of a user's session., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/auth/tokens", (ctx) => {
    ctx.body = apiTokens().list().map(tokenView);
  });
  router.post("/v1/auth/tokens", async (ctx) => {
    const who = identityOf(ctx);
    // A token answers for its creator: it works only while they exist with at least its role.
    if (who.kind !== "user") throw new TsmonError("PERMISSION_DENIED", "API tokens are created by a logged-in admin, not by another token");
    const input = parseBody(ApiTokenCreate, await body(ctx));
    const now = deps.now();
    const { record, token } = await apiTokens().create({
      name: input.name, role: input.role,
      created_by: who.username, created_by_user_id: who.userId,
      expires_at: input.expires_in_secs === undefined ? null : now + input.expires_in_secs * 1000,
    }, now);
    ctx.status = 201;
    ctx.body = { ...tokenView(record), token };
  });

  /**
   * @openapi
   * /v1/auth/tokens/{id}:
   *   delete:
   *     summary: Revoke an API token (it stops working at once, in every process).
   *     tags: [auth]
   *     parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       204: { description: Revoked. }
   *       404: { description: No such token., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.delete("/v1/auth/tokens/:id", async (ctx) => {
    await apiTokens().remove(ctx.params.id!);
    ctx.status = 204;
  });

  return router;
}
