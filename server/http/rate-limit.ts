import type { Context, Next } from "koa";
import type { Identity } from "../auth/roles.ts";
import { sendError } from "./errors.ts";

/** A token bucket: `perMinute` requests a minute, refilled continuously, at most a minute's worth saved. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute: number, private readonly now: () => number = Date.now) {}

  /** Takes one request for `key`; returns 0 when allowed, else the seconds until one is. */
  take(key: string): number {
    const now = this.now();
    const rate = this.perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * rate);
    b.at = now;
    this.buckets.set(key, b);
    if (this.buckets.size > 100_000) this.prune(now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / rate / 1000);
  }

  /** Forgets buckets that have refilled completely (they hold no information). */
  private prune(now: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * (this.perMinute / 60_000) >= this.perMinute) this.buckets.delete(k);
  }
}

/**
 * Limits each caller to `rate_limit_per_minute`, answering 429 with Retry-After: a caller
 * that proved an identity (see `authenticate`) by its user or API token, whatever address it
 * calls from; anyone else by address, including requests whose credential was refused, so
 * guessing tokens is throttled too. Probes and /metrics are exempt (orchestrators and
 * Prometheus poll them). Per process: under PM2 each instance counts alone.
 */
export function rateLimit(limiter: RateLimiter) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path === "/healthz" || ctx.path === "/readyz" || ctx.path.startsWith("/metrics")) return next();
    const who = ctx.state.identity as Identity | undefined;
    const key = !who ? `ip:${ctx.ip}` : who.kind === "user" ? `user:${who.username}` : `token:${who.tokenId}`;
    const wait = limiter.take(key);
    if (wait > 0) {
      ctx.set("Retry-After", String(wait));
      sendError(ctx, "RESOURCE_EXHAUSTED", `rate limit exceeded; retry in ${wait} s`);
      return;
    }
    await next();
  };
}
