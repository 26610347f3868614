import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export const JWT_SECRET_FILE = "jwt.secret";

/**
 * The key that signs session tokens: `[auth] jwt_secret` when set, else one generated on
 * the first start and kept in the data dir (mode 0600), so tokens survive restarts and
 * every PM2 instance sharing the data dir signs with the same key. Created with O_EXCL:
 * when two instances start at once, one writes and both read the same file.
 */
export function loadJwtSecret(configured: string | undefined, dataDir: string): Uint8Array {
  if (configured !== undefined) return new TextEncoder().encode(configured);
  const file = path.join(dataDir, JWT_SECRET_FILE);
  try {
    writeFileSync(file, randomBytes(48).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const secret = readFileSync(file, "utf8").trim();
  if (secret.length < 32) throw new Error(`${file} holds a key shorter than 32 characters; delete it to generate a new one (this signs everyone out)`);
  return new TextEncoder().encode(secret);
}
