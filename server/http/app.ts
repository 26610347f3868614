import Koa from "koa";
import type { Router } from "@koa/router";
import type { Context, Next } from "koa";
import type { HttpDeps } from "./context.ts";
import { authenticate, authorize } from "./access.ts";
import { holdBodies } from "./body.ts";
import { apiAlias } from "./api-alias.ts";
import { boundedInput } from "./bounded-input.ts";
import { compressResponses } from "./compress.ts";
import { errorHandler } from "./errors.ts";
import { RateLimiter, rateLimit } from "./rate-limit.ts";
import { securityHeaders } from "./security-headers.ts";
import { staticWeb } from "./static-web.ts";
import { agentsRouter } from "./routes/agents.ts";
import { agentReleasesRouter } from "./routes/agent-releases.ts";
import { alertsRouter } from "./routes/alerts.ts";
import { alertAcksRouter } from "./routes/alert-acks.ts";
import { authRouter } from "./routes/auth.ts";
import { certificatesRouter } from "./routes/certificates.ts";
import { certsRouter } from "./routes/certs.ts";
import { checkResultsRouter } from "./routes/check-results.ts";
import { reachabilityRouter } from "./routes/reachability.ts";
import { checksRouter } from "./routes/checks.ts";
import { agentConfigRouter } from "./routes/agent-config.ts";
import { docsRouter } from "./routes/docs.ts";
import { alertSilencesRouter } from "./routes/alert-silences.ts";
import { checkTraceRouter } from "./routes/check-trace.ts";
import { reportsRouter } from "./routes/reports.ts";
import { fleetRouter } from "./routes/fleet.ts";
import { healthRouter } from "./routes/health.ts";
import { installRouter } from "./routes/install.ts";
import { liveRouter } from "./routes/live.ts";
import { metricsRouter } from "./routes/metrics.ts";
import { notificationsRouter } from "./routes/notifications.ts";
import { openApiRouter } from "./routes/openapi.ts";
import { probesRouter } from "./routes/probes.ts";
import { prometheusRouter } from "./routes/prometheus.ts";
import { reportRouter } from "./routes/report.ts";
import { seedsRouter } from "./routes/seeds.ts";
import { usersRouter } from "./routes/users.ts";
import { whitelistRouter } from "./routes/whitelist.ts";

/** The REST facade: one router per resource, every failure as `{ error, code }`. */
export function createHttpApp(deps: HttpDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  app.use(requestTimer(deps));
  app.use(securityHeaders(deps.config.tls.enabled));
  app.use(errorHandler(deps.log));
  // The dashboard (web/dist): its files and app routes; /v1, /api, /metrics … fall through.
  app.use(staticWeb(deps.webRoot));
  // After the dashboard's files (gzipped once at start-up), before every API reply.
  app.use(compressResponses());
  const routers = httpRouters(deps);
  app.use(apiAlias(routers));
  app.use(boundedInput());
  app.use(holdBodies(deps.requestBytes));
  // Who is calling, then how often, then whether they may: refused credentials still count.
  app.use(authenticate(routers, deps.auth.authenticator, deps.config.require_agent_auth, (token) => isAgentToken(deps, token)));
  app.use(rateLimit(new RateLimiter(deps.config.http.rate_limit_per_minute)));
  app.use(authorize(deps.log));
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}

/** Every router of the app, in mounting order (the contract test walks them too). */
export function httpRouters(deps: HttpDeps): Router[] {
  return [
    healthRouter(deps), authRouter(deps), usersRouter(deps), whitelistRouter(deps), agentsRouter(deps), metricsRouter(deps), fleetRouter(deps), reportsRouter(deps), reportRouter(deps), seedsRouter(deps), alertsRouter(deps), notificationsRouter(deps),
    certsRouter(deps), certificatesRouter(deps), alertAcksRouter(deps), alertSilencesRouter(deps), checksRouter(deps), checkTraceRouter(deps), agentConfigRouter(deps), checkResultsRouter(deps), reachabilityRouter(deps),
    openApiRouter(), docsRouter(), installRouter(deps.version), agentReleasesRouter(deps), probesRouter(deps), prometheusRouter(deps), liveRouter(),
  ];
}

/** Whether `token` is a whitelisted agent's. */
function isAgentToken(deps: HttpDeps, token: string): boolean {
  return deps.control.whitelist.agentOfToken(token) !== undefined;
}

/** HTTP durations by matched route (not raw path, so ids do not explode the label set). */
function requestTimer(deps: HttpDeps) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? "unmatched";
      deps.metrics.httpDuration.observe({ method: ctx.method, route: String(route), status: String(ctx.status) }, (performance.now() - started) / 1000);
    }
  };
}
