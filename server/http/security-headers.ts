import type { Context, Next } from "koa";

/**
 * Headers every response carries: no MIME sniffing, no framing, no referrer, a CSP that
 * allows only this origin (Swagger UI at /docs needs its own inline styles), no caching
 * of API answers, and HSTS when served over TLS.
 */
export function securityHeaders(tls: boolean) {
  return async (ctx: Context, next: Next): Promise<void> => {
    ctx.set("X-Content-Type-Options", "nosniff");
    ctx.set("X-Frame-Options", "DENY");
    ctx.set("Referrer-Policy", "no-referrer");
    ctx.set("Cross-Origin-Opener-Policy", "same-origin");
    ctx.set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'");
    if (tls) ctx.set("Strict-Transport-Security", "max-age=31536000");
    await next();
    if (!ctx.response.get("Cache-Control")) ctx.set("Cache-Control", "no-store");
  };
}
