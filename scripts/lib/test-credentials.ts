/*
 * The credentials every test and benchmark server is configured with: a known first-admin
 * password and JWT key. Helpers log in once per server (by origin) and send that session;
 * a 401 (another server now on the same port) logs in again. Never use these outside tests.
 */
export const TEST_ADMIN = { username: "admin", password: "Tsmon-test-admin-1" } as const;
export const TEST_JWT_SECRET = "tsmon-test-jwt-secret-never-use-outside-tests";

/** The `[auth]` table of a test server's config. */
export const testAuthConfig = { default_username: TEST_ADMIN.username, default_password: TEST_ADMIN.password, jwt_secret: TEST_JWT_SECRET };

/** The same table as TOML, for config files of spawned servers. */
export const testAuthToml = `[auth]\n${Object.entries(testAuthConfig).map(([k, v]) => `${k} = "${v}"`).join("\n")}\n`;

const sessions = new Map<string, Promise<string>>();

async function login(origin: string): Promise<string> {
  const res = await fetch(`${origin}/v1/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(TEST_ADMIN),
  });
  if (res.status !== 200) throw new Error(`test admin login at ${origin} failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Authorization header of the test admin on the server at `url` (http(s) or ws(s)). */
export async function adminHeaders(url: string, renew = false): Promise<{ authorization: string }> {
  const origin = new URL(url.replace(/^ws/, "http")).origin;
  if (renew || !sessions.has(origin)) sessions.set(origin, login(origin));
  const pending = sessions.get(origin)!;
  pending.catch(() => sessions.delete(origin));
  return { authorization: `Bearer ${await pending}` };
}

/** fetch as the test admin: the Authorization header merged into `init`. */
export async function adminFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const attempt = async (renew: boolean) =>
    fetch(url, { ...init, headers: { ...(await adminHeaders(url, renew)), ...(init.headers as Record<string, string> | undefined) } });
  const res = await attempt(false);
  if (res.status !== 401 || init.body instanceof ReadableStream) return res;
  await res.arrayBuffer();
  return attempt(true);
}
