import type { AgentConfigInput } from "./config.ts";

/* The self-update part of the agent's configuration (docs/agent-update.md). */

/** Self-update settings, validated and defaulted. */
export interface UpdateSettings {
  /** ed25519 public key releases must be signed with (PEM or its base64 line); undefined: no updates. */
  readonly publicKey: string | undefined;
  readonly auto: boolean;
  readonly checkHours: number;
  /** The server's REST base URL releases are fetched from. */
  readonly url: string;
  /** A new version that has no report acknowledged this long after starting is rolled back. */
  readonly trialSecs: number;
}

export const UPDATE_DEFAULTS = {
  auto_update: true,
  update_check_hours: 24,
  update_trial_secs: 120,
  /** The server's default http_port: where releases are fetched when the endpoint is a gRPC one. */
  update_http_port: 8080,
} as const;

/** The settings from the (checked) fields and the endpoint: `update_url` defaults to the REST port. */
export function updateSettings(input: AgentConfigInput, endpoint: { transport: "grpc" | "http"; httpBase: string; tls: boolean; target: string }): UpdateSettings {
  const host = endpoint.target.slice(0, endpoint.target.lastIndexOf(":")); // IPv6 stays in its brackets
  const url = input.update_url ?? (endpoint.transport === "http" ? endpoint.httpBase : `${endpoint.tls ? "https" : "http"}://${host}:${UPDATE_DEFAULTS.update_http_port}`);
  return Object.freeze({
    publicKey: input.update_public_key,
    auto: input.auto_update ?? UPDATE_DEFAULTS.auto_update,
    checkHours: input.update_check_hours ?? UPDATE_DEFAULTS.update_check_hours,
    url: url.replace(/\/+$/, ""),
    trialSecs: input.update_trial_secs ?? UPDATE_DEFAULTS.update_trial_secs,
  });
}
