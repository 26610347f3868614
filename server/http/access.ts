import type { Router } from "@koa/router";
import type { Context, Next } from "koa";
import { TsmonError } from "../../common/errors.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import { describeIdentity, roleAllows, type Identity, type Role } from "../auth/roles.ts";
import { bearerToken } from "../bearer.ts";
import type { Logger } from "../log.ts";

/**
 * Who may call a route: `public` (no credentials), `agent` (the agent whitelist decides,
 * as on gRPC, when require_agent_auth is on; else as `operator`), `agent-read` (with
 * require_agent_auth, a whitelisted agent's token or any user's credential; without it open,
 * as the reports of such a server are), a user's role at least `viewer` / `operator` / `admin`, or `user` (a logged-in
 * person, not an API token: changing one's own password).
 */
export type Access = "public" | "agent" | "agent-read" | "user" | Role;

/**
 * Every route's access, in one table so a review sees what is open. Operators manage what
 * runs the monitoring (rules, channels, silences, cert domains, the agent whitelist);
 * admins also manage users and API tokens; viewers read. A route missing here is refused to
 * everyone, and the access test fails until it is classified.
 */
export const ROUTE_ACCESS: Readonly<Record<string, Access>> = {
  // Open: liveness, the login itself, the API description and its viewer.
  "GET /v1/health": "public",
  "POST /v1/auth/login": "public",
  "GET /v1/openapi.json": "public",
  "GET /v1/openapi.yaml": "public",
  "GET /docs": "public",
  "GET /docs/:file": "public",
  // The install script and this server's release tarball (routes/install.ts): public code.
  "GET /install.sh": "public",
  "GET /download/:file": "public",
  // Orchestrator probes carry no credentials.
  "GET /healthz": "public",
  "GET /readyz": "public",
  // With require_agent_auth, agents send their whitelist token (as on gRPC); without it an
  // operator's credential is needed, so the HTTP report route is never open.
  "POST /v1/report": "agent",
  // The seeds' report shapes (routes/seeds.ts): the same rule as POST /v1/report.
  "POST /api/report": "agent",
  "POST /api/v1/metrics": "agent",
  // Agent self-update (routes/agent-releases.ts): agents fetch signed releases with their token.
  "GET /v1/agent/releases": "viewer",
  "POST /v1/agent/releases": "admin",
  "GET /v1/agent/releases/latest": "agent-read",
  "GET /v1/agent/releases/:version/bundle.tar.gz": "agent-read",

  "POST /v1/auth/password": "user",
  "GET /v1/auth/me": "viewer",
  "GET /v1/auth/tokens": "admin",
  "POST /v1/auth/tokens": "admin",
  "DELETE /v1/auth/tokens/:id": "admin",
  "GET /v1/users": "admin",
  "POST /v1/users": "admin",
  "PUT /v1/users/:username": "admin",
  "DELETE /v1/users/:username": "admin",

  "GET /v1/agents/whitelist": "viewer",
  "POST /v1/agents/whitelist": "operator",
  "PUT /v1/agents/whitelist/:agent_id": "operator",
  "DELETE /v1/agents/whitelist/:agent_id": "operator",
  "POST /v1/agents/whitelist/:agent_id/token": "operator",
  "GET /v1/agents": "viewer",
  "GET /v1/agents/:id/latest": "viewer",
  "GET /v1/metrics": "viewer",
  "GET /v1/metrics/stats": "viewer",
  "GET /v1/reports": "viewer",
  "GET /v1/query": "viewer",
  "GET /v1/overview": "viewer",
  "GET /v1/checks/:id/results": "viewer",
  "GET /v1/traceroutes": "viewer",
  "GET /v1/reachability/matrix": "viewer",
  "GET /v1/live": "viewer",
  // Prometheus scrapes with an API token (`authorization: { credentials: tsmon_… }`).
  "GET /metrics": "viewer",
  "GET /metrics/fleet": "viewer",

  "GET /v1/alerts/rules": "viewer",
  "POST /v1/alerts/rules": "operator",
  "POST /v1/alerts/rules/test": "operator",
  "GET /v1/alerts/rules/:id": "viewer",
  "PUT /v1/alerts/rules/:id": "operator",
  "DELETE /v1/alerts/rules/:id": "operator",
  "GET /v1/alerts/active": "viewer",
  "GET /v1/alerts/history": "viewer",
  "POST /v1/alerts/active/ack": "operator",
  "GET /v1/alerts/silences": "viewer",
  "POST /v1/alerts/silences": "operator",
  "DELETE /v1/alerts/silences/:id": "operator",
  "DELETE /v1/alerts/active/ack/:episode_id": "operator",

  "GET /v1/notifications/channels": "viewer",
  "POST /v1/notifications/channels": "operator",
  "GET /v1/notifications/channels/:id": "viewer",
  "PUT /v1/notifications/channels/:id": "operator",
  "DELETE /v1/notifications/channels/:id": "operator",
  "POST /v1/notifications/channels/:id/test": "operator",
  "GET /v1/notifications/log": "viewer",
  "GET /v1/notifications/silences": "viewer",
  "POST /v1/notifications/silences": "operator",
  "PUT /v1/notifications/silences/:id": "operator",
  "DELETE /v1/notifications/silences/:id": "operator",

  "GET /v1/certs/domains": "viewer",
  "POST /v1/certs/domains": "operator",
  "POST /v1/certs/domains/batch": "operator",
  "PUT /v1/certs/domains/:id": "operator",
  "DELETE /v1/certs/domains/:id": "operator",
  "POST /v1/certs/domains/:id/check": "operator",
  "POST /v1/certs/check": "operator",
  "GET /v1/certs/status": "viewer",
  "GET /v1/certs/status/:domain": "viewer",
  "GET /v1/certificates": "viewer",
  "GET /v1/certificates/:domain": "viewer",
  "GET /v1/certificates/:domain/chain": "viewer",

  // Server-managed checks and agent settings (routes/checks.ts, routes/agent-config.ts).
  "GET /v1/checks": "viewer",
  "POST /v1/checks": "operator",
  "POST /v1/checks/:id/traceroute": "operator",
  "GET /v1/checks/:id": "viewer",
  "PUT /v1/checks/:id": "operator",
  "DELETE /v1/checks/:id": "operator",
  "GET /v1/agent-config": "viewer",
  "PUT /v1/agent-config/:pattern": "operator",
  "DELETE /v1/agent-config/:pattern": "operator",
  "GET /v1/agents/:id/config": "viewer",
};

/** Every (method, path) the routers register, HEAD left out (it follows GET). */
export function registeredRoutes(routers: readonly Router[]): string[] {
  return routers.flatMap((r) => r.stack.flatMap((layer) => layer.methods.filter((m) => m !== "HEAD").map((m) => `${m} ${layer.path}`)));
}

/** The access a request needs: its route's, or for unknown /v1 paths any login (so probing learns nothing). */
function accessFor(routers: readonly Router[], method: string, path: string): Access | "unclassified" | "none" {
  const verb = method === "HEAD" ? "GET" : method;
  for (const router of routers) {
    const layer = router.match(path, verb).pathAndMethod.find((l) => l.methods.length);
    if (layer) return ROUTE_ACCESS[`${verb} ${layer.path}`] ?? "unclassified";
  }
  return path === "/v1" || path.startsWith("/v1/") ? "viewer" : "none";
}

/** What a route's handler may ask about its caller (`ctx.state.identity`). */
export function identityOf(ctx: Context): Identity {
  const who = ctx.state.identity as Identity | undefined;
  if (!who) throw new TsmonError("INTERNAL", "route handler asked for an identity on a public route");
  return who;
}

/**
 * Establishes who is calling, before rate limiting and routing: for a route that needs a
 * credential, `ctx.state.identity` (valid) or `ctx.state.authError` (missing or bad; raised by
 * `authorize` after the rate limiter has counted the request against its address).
 */
export function authenticate(routers: readonly Router[], auth: Authenticator, requireAgentAuth: boolean, isAgentToken: (token: string) => boolean = () => false) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const route = accessFor(routers, ctx.method, ctx.path);
    // Without agent auth a report route would be open to anyone: it then needs an operator;
    // what agents only read (signed releases) is open, as the agents have no credential.
    const access = route === "agent" && !requireAgentAuth ? "operator" : route === "agent-read" && !requireAgentAuth ? "public" : route;
    ctx.state.access = access;
    if (access !== "public" && access !== "agent" && access !== "none" && access !== "unclassified") {
      const header = ctx.get("authorization") || undefined;
      const token = bearerToken(header);
      if (access === "agent-read" && token && isAgentToken(token)) ctx.state.agentToken = true;
      else {
        try {
          ctx.state.identity = await auth.authenticate(header);
        } catch (err) {
          ctx.state.authError = err;
        }
      }
    }
    await next();
  };
}

/** 401 without a valid credential, 403 when the caller's role may not; unclassified routes are refused to everyone. */
export function authorize(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const access = ctx.state.access as ReturnType<typeof accessFor>;
    if (access === "public" || access === "agent" || access === "none") return next();
    if (access === "agent-read" && ctx.state.agentToken) return next();
    if (access === "unclassified") {
      log.error({ method: ctx.method, path: ctx.path }, "route has no entry in ROUTE_ACCESS; refusing it to everyone");
      throw new TsmonError("PERMISSION_DENIED", "this route is not open to anyone yet");
    }
    if (ctx.state.authError) {
      ctx.set("WWW-Authenticate", 'Bearer realm="tsmon"');
      throw ctx.state.authError;
    }
    const who = ctx.state.identity as Identity;
    if (access === "agent-read") {
      // Any logged-in user or API token may read what agents read.
    } else if (access === "user") {
      if (who.kind !== "user") throw new TsmonError("PERMISSION_DENIED", `${describeIdentity(who)} is not a user: log in as the user instead`);
    } else if (!roleAllows(who.role, access)) {
      throw new TsmonError("PERMISSION_DENIED", `${describeIdentity(who)} has role '${who.role}'; ${ctx.method} ${ctx.path} needs '${access}'`);
    }
    await next();
  };
}
