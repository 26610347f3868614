import type { Context, Next } from "koa";
import { ERROR_CODES, TsmonError, type ErrorCode } from "../../common/errors.ts";
import type { Logger } from "../log.ts";
import type { ErrorBody } from "./openapi/schemas.ts";

/** The one error shape: `{ error, code }` with the code's HTTP status. */
export function sendError(ctx: Context, code: ErrorCode, message: string): void {
  ctx.status = ERROR_CODES[code].http;
  const body: ErrorBody = { error: message, code };
  ctx.body = body;
}

/**
 * Outermost middleware: every failure leaves as `{ error, code }`. Client errors say what
 * was wrong; server errors are logged in full and answered without internals.
 */
export function errorHandler(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) sendError(ctx, "NOT_FOUND", `no route for ${ctx.method} ${ctx.path}`);
      // The router answers a method it implements nowhere (TRACE, CONNECT) with 501; for the
      // caller it is one more method this path does not allow (its Allow header is set).
      else if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) sendError(ctx, "METHOD_NOT_ALLOWED", `${ctx.method} is not allowed on ${ctx.path}`);
    } catch (err) {
      if (err instanceof TsmonError) {
        if (ERROR_CODES[err.code].http >= 500) log.error({ err, path: ctx.path }, "request failed");
        sendError(ctx, err.code, ERROR_CODES[err.code].http >= 500 && err.code !== "UNAVAILABLE" ? "internal error" : err.message);
        if (err.retryable && (err.code === "RESOURCE_EXHAUSTED" || err.code === "UNAVAILABLE")) ctx.set("Retry-After", "1");
        return;
      }
      log.error({ err, method: ctx.method, path: ctx.path }, "unhandled error in request");
      sendError(ctx, "INTERNAL", "internal error");
    }
  };
}

/** Shorthand for a 400 naming the parameter or field. */
export function badRequest(field: string, why: string): TsmonError {
  return new TsmonError("INVALID_ARGUMENT", `${field}: ${why}`);
}
