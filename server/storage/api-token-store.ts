import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Database, RootDatabase } from "lmdb";
import { TsmonError } from "../../common/errors.ts";
import type { Role } from "../auth/roles.ts";

/** An API token for automation; only the SHA-256 of its secret is kept. */
export interface ApiTokenRecord {
  id: string;
  name: string;
  role: Role;
  secret_sha256: string;
  created_by: string;
  /** The creator's user_id (absent on tokens made before it was kept: those match by name). */
  created_by_user_id?: string;
  created_at: number;
  /** null: never expires. */
  expires_at: number | null;
}

/** API tokens read `tsmon_<id>_<secret>`: the id finds the record, the secret is compared in constant time. */
export const API_TOKEN_PREFIX = "tsmon_";
const TOKEN_SHAPE = /^tsmon_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

const sha256 = (s: string) => createHash("sha256").update(s).digest();

export class ApiTokenStore {
  private readonly tokens: Database<ApiTokenRecord, string>;

  constructor(private readonly env: RootDatabase) {
    this.tokens = env.openDB<ApiTokenRecord, string>({ name: "api_tokens" });
  }

  /** Creates a token; the returned secret is the only time it is shown. */
  async create(fields: Pick<ApiTokenRecord, "name" | "role" | "created_by" | "created_by_user_id" | "expires_at">, nowMs = Date.now()): Promise<{ record: ApiTokenRecord; token: string }> {
    const id = randomBytes(8).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const record: ApiTokenRecord = { ...fields, id, secret_sha256: sha256(secret).toString("hex"), created_at: nowMs };
    await this.tokens.put(id, record);
    return { record, token: `${API_TOKEN_PREFIX}${id}_${secret}` };
  }

  list(): ApiTokenRecord[] {
    this.env.resetReadTxn();
    return [...this.tokens.getRange({})].map(({ value }) => value);
  }

  async remove(id: string): Promise<void> {
    let found = false;
    await this.tokens.transaction(() => {
      found = this.tokens.get(id) !== undefined;
      if (found) this.tokens.remove(id);
    });
    if (!found) throw new TsmonError("NOT_FOUND", `no API token '${id}'`);
  }

  /** The token's record when it is genuine and unexpired (read fresh: a revocation counts at once). */
  verify(token: string, nowMs = Date.now()): ApiTokenRecord | { problem: string } {
    const m = TOKEN_SHAPE.exec(token);
    if (!m) return { problem: "the API token is malformed" };
    this.env.resetReadTxn();
    const record = this.tokens.get(m[1]!);
    if (!record || !timingSafeEqual(sha256(m[2]!), Buffer.from(record.secret_sha256, "hex"))) return { problem: "the API token is unknown or revoked" };
    if (record.expires_at !== null && record.expires_at <= nowMs) return { problem: "the API token has expired" };
    return record;
  }
}
