import { fileURLToPath } from "node:url";
import swaggerJsdoc from "swagger-jsdoc";
import { VERSION } from "../../version.ts";
import { componentSchemas } from "./schemas.ts";

const ROUTES_GLOB = fileURLToPath(new URL("../routes/*.ts", import.meta.url));

let cached: Record<string, any> | undefined;

/**
 * The OpenAPI 3 document: paths from the `@openapi` JSDoc block above each route,
 * components from the zod schemas. Built once per process.
 */
export function openApiSpec(): Record<string, any> {
  cached ??= swaggerJsdoc({
    definition: {
      openapi: "3.0.3",
      info: {
        title: "tsmon API",
        version: VERSION,
        description: "REST API of the tsmon monitoring server (oxmon-compatible paths). " +
          "Every route under /v1 also answers under /api/v1, except where a route is registered under /api/v1 itself (POST /api/v1/metrics). Errors are `{ error, code }` with the code's HTTP status. " +
          "Any route may answer 429 (with Retry-After) past `[http] rate_limit_per_minute` per client or token. " +
          "Every route needs a bearer credential unless it says `security: []`: 401 without a valid one, 403 when the caller's role " +
          "(viewer < operator < admin) may not; see docs/security.md for which role each route needs.",
      },
      components: {
        schemas: componentSchemas(),
        securitySchemes: {
          bearerAuth: { type: "http", scheme: "bearer", description: "A session JWT from POST /v1/auth/login, or an API token (tsmon_…) from POST /v1/auth/tokens." },
          agentToken: { type: "http", scheme: "bearer", description: "An agent's whitelist token; required when the server sets require_agent_auth." },
        },
      },
      security: [{ bearerAuth: [] }],
    },
    apis: [ROUTES_GLOB],
  }) as Record<string, any>;
  return cached;
}
