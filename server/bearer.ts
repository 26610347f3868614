/** `Bearer abc` → `abc`; anything else → undefined. Shared by gRPC metadata and HTTP headers. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return match?.[1];
}
