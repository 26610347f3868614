import test from "ava";
import { JwtIssuer } from "../server/auth/jwt.ts";
import { ROUTE_ACCESS, registeredRoutes, type Access } from "../server/http/access.ts";
import { httpRouters } from "../server/http/app.ts";
import type { HttpDeps } from "../server/http/context.ts";
import { TEST_JWT_SECRET } from "../scripts/lib/test-credentials.ts";
import { adminFetch, adminHeaders, startTestServer, type TestServer } from "./helpers/server.ts";

/*
 * Every registered route × every kind of credential, against a real server. A route added
 * without an entry in ROUTE_ACCESS fails the first test; each cell checks that the guard
 * lets the caller through (any status but 401/403/5xx: a 400 for the empty body or a 404 for
 * the made-up id is the handler speaking) or refuses it with the right status.
 */

const routes = registeredRoutes(httpRouters({} as HttpDeps));

test("every registered route is classified in ROUTE_ACCESS, and every entry is a route", (t) => {
  t.deepEqual(routes.filter((r) => !(r in ROUTE_ACCESS)), [], "classify these routes in server/http/access.ts");
  t.deepEqual(Object.keys(ROUTE_ACCESS).filter((r) => !routes.includes(r)), [], "these entries name no route");
});

test("the policy: only login, health, the API description, probes and the install script with its release are open; viewers only read; users and tokens are admin's", (t) => {
  const withAccess = (a: Access) => Object.entries(ROUTE_ACCESS).filter(([, v]) => v === a).map(([k]) => k).sort();
  t.deepEqual(withAccess("public"), ["GET /docs", "GET /docs/:file", "GET /download/:file", "GET /healthz", "GET /install.sh", "GET /readyz", "GET /v1/health", "GET /v1/openapi.json", "GET /v1/openapi.yaml", "POST /v1/auth/login"]);
  t.deepEqual(withAccess("agent"), ["POST /api/report", "POST /api/v1/metrics", "POST /v1/report"], "the report routes: JSON batch and the seeds' two shapes");
  t.deepEqual(withAccess("agent-read"), ["GET /v1/agent/releases/:version/bundle.tar.gz", "GET /v1/agent/releases/latest"], "what agents read to update themselves");
  t.deepEqual(Object.entries(ROUTE_ACCESS).filter(([route, a]) => !route.startsWith("GET ") && (a === "viewer" || a === "public")).map(([r]) => r), ["POST /v1/auth/login"]);
  for (const route of routes.filter((r) => /\/v1\/(users|auth\/tokens)/.test(r))) t.is(ROUTE_ACCESS[route], "admin", route);
});

type Credential = "none" | "malformed" | "expired" | "revoked" | "viewer" | "operator" | "admin" | "api_token";
const CREDENTIALS: Credential[] = ["none", "malformed", "expired", "revoked", "viewer", "operator", "admin", "api_token"];
/** The role each valid credential acts with (the API token is made an operator's). */
const ROLE_OF: Partial<Record<Credential, "viewer" | "operator" | "admin">> = { viewer: "viewer", operator: "operator", admin: "admin", api_token: "operator" };

/** 401, 403, or "through" (the guard let it pass) for a credential on a route with `access`. */
function expected(route: Access, credential: Credential): 401 | 403 | "through" {
  // This server runs without require_agent_auth: the report route then needs an operator.
  const access = route === "agent" ? "operator" : route === "agent-read" ? "public" : route;
  if (access === "public") return "through";
  const role = ROLE_OF[credential];
  if (!role) return 401;
  if (access === "user") return credential === "api_token" ? 403 : "through";
  const rank = { viewer: 0, operator: 1, admin: 2 };
  return rank[role] >= rank[access] ? "through" : 403;
}

async function json(res: Response): Promise<any> {
  return res.json();
}

async function credentials(server: TestServer): Promise<Record<Credential, Record<string, string>>> {
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const login = async (username: string, password: string) => (await json(await fetch(`${server.http}/v1/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }),
  }))).token as string;
  const user = async (username: string, role: string) => {
    const password = `Pw-for-${role}-2026`;
    const res = await adminFetch(`${server.http}/v1/users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password, role }) });
    if (res.status !== 201) throw new Error(`creating ${username}: ${res.status} ${await res.text()}`);
    return { token: await login(username, password), password };
  };
  const viewer = await user("vera", "viewer");
  const operator = await user("otto", "operator");
  const revoked = await user("rita", "admin");
  const change = await fetch(`${server.http}/v1/auth/password`, {
    method: "POST", headers: { "content-type": "application/json", ...bearer(revoked.token) },
    body: JSON.stringify({ current_password: revoked.password, new_password: "Another-pw-2026" }),
  });
  if (change.status !== 200) throw new Error(`password change: ${change.status} ${await change.text()}`);
  const apiToken = await adminFetch(`${server.http}/v1/auth/tokens`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "ci", role: "operator" }) });
  // Signed with the server's key, but two days old with a one-minute life.
  const stale = new JwtIssuer(new TextEncoder().encode(TEST_JWT_SECRET), 60, () => Date.now() - 2 * 86400_000);
  return {
    none: {},
    malformed: { authorization: "Bearer not.a.jwt" },
    expired: bearer((await stale.issue({ username: "admin", userId: "any", version: 0 })).token),
    revoked: bearer(revoked.token),
    viewer: bearer(viewer.token),
    operator: bearer(operator.token),
    admin: await adminHeaders(server.http),
    api_token: bearer((await json(apiToken)).token),
  };
}

test("each route answers each credential as its access class says", async (t) => {
  const server = await startTestServer({ http: { rate_limit_per_minute: 100_000 } });
  t.teardown(() => server.stop());
  const creds = await credentials(server);
  const failures: string[] = [];
  let cells = 0;
  for (const route of routes) {
    const [method, path] = route.split(" ") as [string, string];
    const url = server.http + path.replace(/:(\w+)/g, "no-such-$1");
    for (const credential of CREDENTIALS) {
      const withBody = method === "POST" || method === "PUT";
      const res = await fetch(url, {
        method, headers: { ...creds[credential], ...(withBody ? { "content-type": "application/json" } : {}) }, body: withBody ? "{}" : undefined,
      });
      await res.arrayBuffer();
      cells++;
      const want = expected(ROUTE_ACCESS[route]!, credential);
      const ok = want === "through" ? res.status !== 401 && res.status !== 403 && res.status < 500 : res.status === want;
      if (!ok) failures.push(`${route} as ${credential}: ${res.status}, expected ${want}`);
      if (res.status === 401 && !res.headers.get("www-authenticate")) failures.push(`${route} as ${credential}: 401 without WWW-Authenticate`);
    }
  }
  t.deepEqual(failures, []);
  t.true(cells >= 400, `${cells} cells`);
});

test("an unknown /v1 path asks for credentials before it says 404; the /api/v1 alias is guarded alike", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  t.is((await fetch(`${server.http}/v1/no-such-thing`)).status, 401);
  t.is((await adminFetch(`${server.http}/v1/no-such-thing`)).status, 404);
  t.is((await fetch(`${server.http}/api/v1/agents`)).status, 401);
  t.is((await adminFetch(`${server.http}/api/v1/agents`)).status, 200);
  const refused = await fetch(`${server.http}/v1/agents`, { headers: { authorization: "Basic YWRtaW46eA==" } });
  t.is(refused.status, 401);
  t.like(await refused.json(), { code: "UNAUTHENTICATED" });
});
