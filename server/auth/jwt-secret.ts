import { randomBytes } from "node:crypto";
import { existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";

export const JWT_SECRET_FILE = "jwt.secret";

/**
 * The key that signs session tokens: `[auth] jwt_secret` when set, else one generated on
 * the first start and kept in the data dir (mode 0600), so tokens survive restarts and
 * every PM2 instance sharing the data dir signs with the same key, even when two start at once.
 */
export function loadJwtSecret(configured: string | undefined, dataDir: string): Uint8Array {
  if (configured !== undefined) return new TextEncoder().encode(configured);
  const file = path.join(dataDir, JWT_SECRET_FILE);
  if (!existsSync(file)) {
    // Written whole under a private name, then linked into place: linking fails if another
    // instance got there first, and nobody ever reads a half-written key.
    const draft = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
    writeFileSync(draft, randomBytes(48).toString("base64url"), { mode: 0o600 });
    try {
      linkSync(draft, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    } finally {
      unlinkSync(draft);
    }
  }
  const secret = readFileSync(file, "utf8").trim();
  if (secret.length < 32) throw new Error(`${file} holds a key shorter than 32 characters; delete it to generate a new one (this signs everyone out)`);
  return new TextEncoder().encode(secret);
}
