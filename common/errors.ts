import { status as GrpcStatus } from "@grpc/grpc-js";

/**
 * The one registry of error codes. Every failure that reaches a client (HTTP or
 * gRPC) carries one of these; the table fixes its HTTP and gRPC status.
 */
export const ERROR_CODES = {
  INVALID_ARGUMENT: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  UNAUTHENTICATED: { http: 401, grpc: GrpcStatus.UNAUTHENTICATED },
  PERMISSION_DENIED: { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  NOT_FOUND: { http: 404, grpc: GrpcStatus.NOT_FOUND },
  METHOD_NOT_ALLOWED: { http: 405, grpc: GrpcStatus.UNIMPLEMENTED },
  ALREADY_EXISTS: { http: 409, grpc: GrpcStatus.ALREADY_EXISTS },
  PAYLOAD_TOO_LARGE: { http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  UPGRADE_REQUIRED: { http: 426, grpc: GrpcStatus.FAILED_PRECONDITION },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, grpc: GrpcStatus.INVALID_ARGUMENT },
  RESOURCE_EXHAUSTED: { http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  INTERNAL: { http: 500, grpc: GrpcStatus.INTERNAL },
  UNAVAILABLE: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  DEADLINE_EXCEEDED: { http: 504, grpc: GrpcStatus.DEADLINE_EXCEEDED },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * An error as plain data, so it can cross a worker boundary by structured clone.
 * `retryable` tells the sender whether the same request may succeed later.
 */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  retryable: boolean;
}

/** Thrown inside the server; `expose` is implied by the code (5xx messages stay in the log). */
export class TsmonError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  constructor(code: ErrorCode, message: string, retryable = false) {
    super(message);
    this.name = "TsmonError";
    this.code = code;
    this.retryable = retryable;
  }
  toData(): ErrorData {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export function isErrorData(value: unknown): value is ErrorData {
  return (
    typeof value === "object" && value !== null &&
    typeof (value as ErrorData).code === "string" && (value as ErrorData).code in ERROR_CODES &&
    typeof (value as ErrorData).message === "string"
  );
}

/** Coerces anything thrown into ErrorData; unknown failures become INTERNAL without leaking details. */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof TsmonError) return err.toData();
  if (isErrorData(err)) return err;
  return { code: "INTERNAL", message: "internal error", retryable: true };
}
