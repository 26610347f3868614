import { z } from "zod";

/*
 * Shapes of the agent-release routes (routes/agent-releases.ts). Published as components
 * by schemas.ts through `releaseComponents`.
 */

export const AgentRelease = z.object({
  version: z.string().describe("semver, e.g. 1.4.0 or 1.4.0-rc.1"),
  sha256: z.string().describe("hex SHA-256 of the bundle"),
  size: z.number().int().describe("bundle bytes"),
  signature: z.string().describe("base64 ed25519 signature of \"tsmon-agent-release\\n<version>\\n<sha256>\\n<size>\\n\""),
  url: z.string().describe("where the bundle is downloaded: a path on this server"),
});

export const StoredAgentRelease = AgentRelease.extend({
  signed_by: z.enum(["server", "uploader-verified", "uploader-unverified"]).describe("the server's key, or the uploader's signature (checked against [updates] public key when the server has one)"),
  uploaded_at: z.string().describe("ISO 8601 UTC time"),
});

export const releaseComponents = { AgentRelease, StoredAgentRelease };
