import { randomUUID } from "node:crypto";
import { Router } from "@koa/router";
import { hashPassword, passwordProblem } from "../../auth/passwords.ts";
import type { UserRecord } from "../../storage/user-store.ts";
import { readJsonBody } from "../body.ts";
import type { HttpDeps } from "../context.ts";
import { badRequest } from "../errors.ts";
import { UserCreate, UserUpdate } from "../openapi/auth-schemas.ts";
import { parseBody } from "../parse-body.ts";

const view = (u: UserRecord) => ({ username: u.username, role: u.role, created_at: new Date(u.created_at).toISOString(), updated_at: new Date(u.updated_at).toISOString() });

function checkedPassword(password: string, username: string): string {
  const problem = passwordProblem(password, username);
  if (problem) throw badRequest("password", problem);
  return password;
}

/** User management (admin only, see access.ts). Hashes never leave the store. */
export function usersRouter(deps: Pick<HttpDeps, "config" | "control" | "now">): Router {
  const router = new Router();
  const users = () => deps.control.users;

  /**
   * @openapi
   * /v1/users:
   *   get:
   *     summary: Users and their roles.
   *     tags: [users]
   *     responses:
   *       200: { description: Users., content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/User' } } } } }
   *   post:
   *     summary: Create a user.
   *     tags: [users]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/UserCreate' } } } }
   *     responses:
   *       201: { description: Created., content: { application/json: { schema: { $ref: '#/components/schemas/User' } } } }
   *       400: { description: Invalid body or a weak password., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       409: { description: The username exists., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/v1/users", (ctx) => {
    ctx.body = users().list().map(view);
  });
  router.post("/v1/users", async (ctx) => {
    const input = parseBody(UserCreate, await readJsonBody(ctx, deps.config.http.body_limit_bytes));
    const now = deps.now();
    const user: UserRecord = {
      username: input.username, role: input.role, password_hash: await hashPassword(checkedPassword(input.password, input.username)),
      user_id: randomUUID(), token_version: 0, created_at: now, updated_at: now,
    };
    await users().create(user);
    ctx.status = 201;
    ctx.body = view(user);
  });

  /**
   * @openapi
   * /v1/users/{username}:
   *   put:
   *     summary: Change a user's role or set a new password (which signs the user out everywhere).
   *     tags: [users]
   *     parameters: [{ name: username, in: path, required: true, schema: { type: string } }]
   *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/UserUpdate' } } } }
   *     responses:
   *       200: { description: Updated., content: { application/json: { schema: { $ref: '#/components/schemas/User' } } } }
   *       400: { description: Invalid body or a weak password., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       404: { description: No such user., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       409: { description: It would leave no admin., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *   delete:
   *     summary: Delete a user; their session tokens stop working at once.
   *     tags: [users]
   *     parameters: [{ name: username, in: path, required: true, schema: { type: string } }]
   *     responses:
   *       204: { description: Deleted. }
   *       404: { description: No such user., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   *       409: { description: It is the only admin., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.put("/v1/users/:username", async (ctx) => {
    const username = ctx.params.username!;
    const change = parseBody(UserUpdate, await readJsonBody(ctx, deps.config.http.body_limit_bytes));
    const passwordHash = change.password === undefined ? undefined : await hashPassword(checkedPassword(change.password, username));
    ctx.body = view(await users().update(username, { ...(change.role ? { role: change.role } : {}), ...(passwordHash ? { password_hash: passwordHash } : {}) }, deps.now()));
  });
  router.delete("/v1/users/:username", async (ctx) => {
    await users().remove(ctx.params.username!);
    ctx.status = 204;
  });

  return router;
}
