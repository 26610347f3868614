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

/** Issues and checks HS256 session tokens. The role is not in the token: it is read from the user at each request. */
export class JwtIssuer {
  constructor(private readonly secret: Uint8Array, private readonly expireSecs: number, private readonly now: () => number = Date.now) {}

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
      .sign(this.secret);
    return { token, expiresAt: expiresAt * 1000 };
  }

  /** The claims of a valid token; otherwise why it is not valid, in words for the client. */
  async verify(token: string): Promise<SessionClaims | { problem: string }> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        algorithms: ["HS256"], issuer: ISSUER, currentDate: new Date(this.now()), requiredClaims: ["sub", "exp", "iat"],
      });
      if (typeof payload.ver !== "number" || typeof payload.uid !== "string") return { problem: "the token is not valid" };
      return { username: payload.sub!, userId: payload.uid, version: payload.ver };
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { problem: "the token has expired; log in again" };
      return { problem: "the token is not valid" };
    }
  }
}
