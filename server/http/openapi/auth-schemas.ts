import { z } from "zod";
import { ROLES } from "../../auth/roles.ts";

/*
 * Request and response shapes of login, password change, API tokens and users. Published
 * as components by schemas.ts through `authComponents`. Passwords are checked for strength
 * by the handler (passwordProblem), so the message can name what is missing.
 */

const isoTime = z.string().describe("ISO 8601 UTC time");
const role = z.enum(ROLES).describe("viewer reads; operator also manages rules, channels, silences, cert domains and the agent whitelist; admin also users and API tokens");
const username = z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, "1 to 64 letters, digits or . _ @ -");
const password = z.string().min(1).max(256);

export const LoginRequest = z.strictObject({ username: z.string().min(1).max(64), password });

export const LoginResponse = z.object({
  token: z.string().describe("a JWT: send it as 'Authorization: Bearer <token>'"),
  token_type: z.literal("Bearer"),
  expires_at: isoTime,
  username: z.string(),
  role,
});

export const PasswordChange = z.strictObject({
  current_password: password,
  new_password: password.describe("at least 10 characters mixing two of: lower case, upper case, digits, symbols; not containing the username"),
});

export const Identity = z.object({
  kind: z.enum(["user", "api_token"]),
  username: z.string().optional().describe("for a user"),
  token_id: z.string().optional().describe("for an API token"),
  name: z.string().optional().describe("for an API token"),
  role,
});

export const ApiTokenCreate = z.strictObject({
  name: z.string().min(1).max(100).describe("what the token is for, e.g. 'prometheus'"),
  role,
  expires_in_secs: z.number().int().min(60).max(10 * 366 * 86400).optional().describe("omit for a token that does not expire"),
});

export const ApiToken = z.object({
  id: z.string(),
  name: z.string(),
  role,
  created_by: z.string(),
  created_at: isoTime,
  expires_at: isoTime.nullable(),
});

export const ApiTokenCreated = ApiToken.extend({ token: z.string().describe("shown only now; only its hash is kept") });

export const UserCreate = z.strictObject({ username, password, role });
export const UserUpdate = z.strictObject({ role: role.optional(), password: password.optional() });

export const User = z.object({ username: z.string(), role, created_at: isoTime, updated_at: isoTime });

export const authComponents = { LoginRequest, LoginResponse, PasswordChange, Identity, ApiTokenCreate, ApiToken, ApiTokenCreated, UserCreate, UserUpdate, User };
