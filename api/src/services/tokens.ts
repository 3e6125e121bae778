// Access tokens: HS* JWTs naming a user (sub) and the session (sid) that logout revokes.
import { webcrypto } from "node:crypto";
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

const hashOf = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" } as const;
const keys = new Map<string, Promise<webcrypto.CryptoKey>>();

/** The HMAC key, imported once per secret and algorithm rather than on every request. */
function keyOf(config: TokenConfig): Promise<webcrypto.CryptoKey> {
  const id = `${config.algorithm}:${config.secret}`;
  let key = keys.get(id);
  if (!key) {
    key = webcrypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(config.secret),
      { name: "HMAC", hash: hashOf[config.algorithm] },
      false,
      ["sign", "verify"],
    );
    keys.set(id, key);
  }
  return key;
}

/** Signs an access token that expires at `expiresAt`. */
export async function signToken(config: TokenConfig, claims: TokenClaims, expiresAt: Date): Promise<string> {
  return new SignJWT({ sid: claims.sessionId })
    .setProtectedHeader({ alg: config.algorithm, typ: "JWT" })
    .setSubject(claims.userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(await keyOf(config));
}

/**
 * Verifies signature, the one configured algorithm (so `none` and every other algorithm are refused)
 * and a present, unexpired `exp`; throws `unauthorized` otherwise.
 */
export async function verifyToken(config: TokenConfig, token: string): Promise<TokenClaims> {
  try {
    const { payload } = await jwtVerify(token, await keyOf(config), {
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
