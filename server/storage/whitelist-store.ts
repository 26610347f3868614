import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Database, RootDatabase } from "lmdb";
import { TsmonError } from "../../common/errors.ts";

/** A whitelisted agent; only the SHA-256 of its token is kept. */
export interface WhitelistEntry {
  agent_id: string;
  token_sha256: string;
  description: string;
  created_at: number;
  updated_at: number;
}

/**
 * The agent whitelist, as the reference: an agent is added by hand and gets a token shown
 * once; tokens are stored hashed, compared in constant time, and a regenerated token
 * replaces the old one at once (in every process: they all read the same LMDB).
 */
export class WhitelistStore {
  private readonly entries: Database<WhitelistEntry, string>;
  /** token SHA-256 → agent_id, to tell "another agent's token" from "unknown token". */
  private readonly byToken: Database<string, string>;

  constructor(env: RootDatabase) {
    this.entries = env.openDB<WhitelistEntry, string>({ name: "whitelist" });
    this.byToken = env.openDB<string, string>({ name: "whitelist_tokens" });
  }

  /** Adds an agent; returns its token (the only time it is shown). 409 if it exists. */
  async add(agentId: string, description: string, nowMs = Date.now()): Promise<{ entry: WhitelistEntry; token: string }> {
    const token = newToken();
    const entry: WhitelistEntry = { agent_id: agentId, token_sha256: sha256Hex(token), description, created_at: nowMs, updated_at: nowMs };
    let exists = false;
    await this.entries.transaction(() => {
      exists = this.entries.get(agentId) !== undefined;
      if (exists) return;
      this.entries.put(agentId, entry);
      this.byToken.put(entry.token_sha256, agentId);
    });
    if (exists) throw new TsmonError("ALREADY_EXISTS", `agent '${agentId}' is already whitelisted; regenerate its token with POST /v1/agents/whitelist/${agentId}/token`);
    return { entry, token };
  }

  list(): WhitelistEntry[] {
    return [...this.entries.getRange({})].map(({ value }) => value);
  }

  get(agentId: string): WhitelistEntry | undefined {
    return this.entries.get(agentId);
  }

  async describe(agentId: string, description: string, nowMs = Date.now()): Promise<WhitelistEntry> {
    const entry = this.required(agentId);
    const next = { ...entry, description, updated_at: nowMs };
    await this.entries.put(agentId, next);
    return next;
  }

  /** A new token for the agent; the old one stops working at once. */
  async regenerate(agentId: string, nowMs = Date.now()): Promise<string> {
    const token = newToken();
    await this.entries.transaction(() => {
      const entry = this.required(agentId);
      this.byToken.remove(entry.token_sha256);
      this.entries.put(agentId, { ...entry, token_sha256: sha256Hex(token), updated_at: nowMs });
      this.byToken.put(sha256Hex(token), agentId);
    });
    return token;
  }

  async remove(agentId: string): Promise<void> {
    await this.entries.transaction(() => {
      const entry = this.required(agentId);
      this.byToken.remove(entry.token_sha256);
      this.entries.remove(agentId);
    });
  }

  /** True when `token` is the whitelisted token of `agentId` (constant-time comparison). */
  tokenMatches(agentId: string, token: string): boolean {
    const entry = this.entries.get(agentId);
    if (!entry) return false;
    const given = Buffer.from(sha256Hex(token), "hex");
    const stored = Buffer.from(entry.token_sha256, "hex");
    return given.length === stored.length && timingSafeEqual(given, stored);
  }

  /** The agent a token belongs to, if any. */
  agentOfToken(token: string): string | undefined {
    return this.byToken.get(sha256Hex(token));
  }

  private required(agentId: string): WhitelistEntry {
    const entry = this.entries.get(agentId);
    if (!entry) throw new TsmonError("NOT_FOUND", `agent '${agentId}' is not whitelisted`);
    return entry;
  }
}

/** 32 random bytes, URL-safe: fits in a header, a TOML string and a flag. */
function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
