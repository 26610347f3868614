import { randomUUID } from "node:crypto";
import { SignJWT, jwtVerify, errors } from "jose";

/** What a session token says: who, and which password generation it belongs to. */
export interface SessionClaims {
  username: string;
  /** The user's random id: a session never passes for a later user of the same name. */
  userId: string;
  /** The user's token_version when the token was issued; a password change bumps it. */
  version: number;
}

const ISSUER = "tsmon";
const EXPIRED = "the token has expired; log in again";
/** Verified tokens remembered; a browser session sends the same token with every request. */
const VERIFIED_CACHE_SIZE = 4096;

/** Issues and checks HS256 session tokens. The role is not in the token: it is read from the user at each request. */
export class JwtIssuer {
  /** The secret as a WebCrypto key, imported once: jose would import a raw secret on every call. */
  private readonly key: Promise<CryptoKey>;
  /**
   * Tokens whose signature and claims have been checked, with their expiry (seconds). A hit
   * skips the HMAC, an asynchronous WebCrypto job on libuv's thread pool (shared with LMDB's
   * writes), which was most of a request's authentication time and its tail. Expiry is
   * checked again on every hit; the user's token_version is checked by the caller each time.
   */
  private readonly verified = new Map<string, { claims: SessionClaims; exp: number }>();

  constructor(secret: Uint8Array, private readonly expireSecs: number, private readonly now: () => number = Date.now) {
    this.key = crypto.subtle.importKey("raw", new Uint8Array(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    this.key.catch(() => undefined); // a failed import surfaces at first use, not as an unhandled rejection now
  }

  async issue(claims: SessionClaims): Promise<{ token: string; expiresAt: number }> {
    const issuedAt = Math.floor(this.now() / 1000);
    const expiresAt = issuedAt + this.expireSecs;
    const token = await new SignJWT({ ver: claims.version, uid: claims.userId })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.username)
      .setIssuer(ISSUER)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(await this.key);
    return { token, expiresAt: expiresAt * 1000 };
  }

  /** The claims of a valid token; otherwise why it is not valid, in words for the client. */
  async verify(token: string): Promise<SessionClaims | { problem: string }> {
    const known = this.verified.get(token);
    if (known) {
      // jose's rule: expired once `exp` is not after the current second.
      if (known.exp > Math.floor(this.now() / 1000)) {
        // Moved to the newest end: the sessions in use are the last to be forgotten.
        this.verified.delete(token);
        this.verified.set(token, known);
        return known.claims;
      }
      this.verified.delete(token);
      return { problem: EXPIRED };
    }
    try {
      const { payload } = await jwtVerify(token, await this.key, {
        algorithms: ["HS256"], issuer: ISSUER, currentDate: new Date(this.now()), requiredClaims: ["sub", "exp", "iat"],
      });
      if (typeof payload.ver !== "number" || typeof payload.uid !== "string") return { problem: "the token is not valid" };
      const claims = Object.freeze({ username: payload.sub!, userId: payload.uid, version: payload.ver });
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { claims, exp: payload.exp! });
      return claims;
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { problem: EXPIRED };
      return { problem: "the token is not valid" };
    }
  }
}
