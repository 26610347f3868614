import { JwtIssuer } from "../../server/auth/jwt.ts";

/*
 * The credentials every test and benchmark server is configured with: a known first-admin
 * password and JWT key, so a session token for that admin can be minted here without a
 * login round trip (and works against in-process and spawned servers alike). Never use
 * these outside tests.
 */
export const TEST_ADMIN = { username: "admin", password: "Tsmon-test-admin-1" } as const;
export const TEST_JWT_SECRET = "tsmon-test-jwt-secret-never-use-outside-tests";

/** The `[auth]` table of a test server's config. */
export const testAuthConfig = { default_username: TEST_ADMIN.username, default_password: TEST_ADMIN.password, jwt_secret: TEST_JWT_SECRET };

/** The same table as TOML, for config files of spawned servers. */
export const testAuthToml = `[auth]\n${Object.entries(testAuthConfig).map(([k, v]) => `${k} = "${v}"`).join("\n")}\n`;

const issuer = new JwtIssuer(new TextEncoder().encode(TEST_JWT_SECRET), 7 * 86400);
const { token } = await issuer.issue({ username: TEST_ADMIN.username, version: 0 });

/** Authorization header of the first admin of a test server (until its password changes). */
export const ADMIN_AUTH = { authorization: `Bearer ${token}` } as const;

/** fetch as the test admin: the Authorization header merged into `init`. */
export function adminFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...ADMIN_AUTH, ...(init.headers as Record<string, string> | undefined) } });
}
