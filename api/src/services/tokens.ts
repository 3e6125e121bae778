// Access tokens: HS* JWTs naming a user (sub) and the session (sid) that logout revokes.
import { AppError } from "@faceapp/core";
import { jwtVerify, SignJWT } from "jose";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TokenConfig {
  secret: string;
  algorithm: "HS256" | "HS384" | "HS512";
}

export interface TokenClaims {
  userId: string;
  sessionId: string;
}

/** Signs an access token that expires at `expiresAt`. */
export async function signToken(config: TokenConfig, claims: TokenClaims, expiresAt: Date): Promise<string> {
  return new SignJWT({ sid: claims.sessionId })
    .setProtectedHeader({ alg: config.algorithm, typ: "JWT" })
    .setSubject(claims.userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(new TextEncoder().encode(config.secret));
}

/**
 * Verifies signature, the one configured algorithm (so `none` and every other algorithm are refused)
 * and a present, unexpired `exp`; throws `unauthorized` otherwise.
 */
export async function verifyToken(config: TokenConfig, token: string): Promise<TokenClaims> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(config.secret), {
      algorithms: [config.algorithm],
      requiredClaims: ["exp", "sub", "sid"],
    });
    if (typeof payload.sub !== "string" || typeof payload.sid !== "string") throw new Error("bad claims");
    if (!uuid.test(payload.sub) || !uuid.test(payload.sid)) throw new Error("bad claims");
    return { userId: payload.sub, sessionId: payload.sid };
  } catch {
    throw new AppError("unauthorized", "Sign in again: the token is missing, invalid or expired");
  }
}
