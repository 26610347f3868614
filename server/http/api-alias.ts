import type { Router } from "@koa/router";
import type { Context, Next } from "koa";

/**
 * Paths of the seeds' API that name an existing route under another name; they answer
 * exactly as their target (same parameters, same access), so they are documented once,
 * on the target.
 */
export const SEED_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  "/api/v1/stats": "/v1/metrics/stats",
  "/api/v1/history": "/v1/metrics",
  "/api/v1/alerts": "/v1/alerts/active",
});

/**
 * `/api/v1/*` answers as `/v1/*` (the convention of the reachability seed), unless a route
 * is registered under the `/api/v1` path itself for this method (`POST /api/v1/metrics`,
 * a seed's flat sample, while `GET /api/v1/metrics` stays `GET /v1/metrics`).
 */
export function apiAlias(routers: readonly Router[]) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const alias = SEED_ALIASES[ctx.path];
    if (alias !== undefined) ctx.path = alias;
    else if ((ctx.path === "/api/v1" || ctx.path.startsWith("/api/v1/")) && !registeredHere(routers, ctx.method, ctx.path)) ctx.path = ctx.path.slice(4);
    await next();
  };
}

function registeredHere(routers: readonly Router[], method: string, path: string): boolean {
  const verb = method === "HEAD" ? "GET" : method;
  return routers.some((r) => r.match(path, verb).pathAndMethod.some((l) => l.methods.length > 0));
}
