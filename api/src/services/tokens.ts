// Access tokens: HS* JWTs naming a user (sub) and the session (sid) that logout revokes.
import { webcrypto } from "node:crypto";
import { AppError } from "@faceapp/core";
import { jwtVerify, SignJWT } from "jose";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A compact JWS of three canonical base64url segments. Base64url's last character may carry unused
 * bits (two of them in a 32-byte HS256 signature), so one signature has several spellings that all
 * decode alike: without this check an alias of a remembered token would verify, and the cache (keyed
 * by the exact string) would hold it as another token. Only the one spelling a signer writes passes.
 */
function canonicalCompact(token: string): boolean {
  const segments = token.split(".");
  return (
    segments.length === 3 &&
    segments.every(
      (s) =>
        /^[A-Za-z0-9_-]+$/.test(s) && s.length % 4 !== 1 && Buffer.from(s, "base64url").toString("base64url") === s,
    )
  );
}

export interface TokenConfig {
  secret: string;
  algorithm: "HS256" | "HS384" | "HS512";
}

export interface TokenClaims {
  userId: string;
  sessionId: string;
}

/** What a verified token says: its claims and when it expires (its `exp`, in ms). */
export interface VerifiedToken extends TokenClaims {
  expiresAtMs: number;
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

/** Tokens whose signature and claims were verified, by config and token: at most this many. */
const VERIFIED_MAX = 10_000;
const verified = new Map<string, VerifiedToken>();

/**
 * Verifies a canonical encoding (one spelling per token), the signature, the one configured algorithm
 * (so `none` and every other algorithm are refused) and a present, unexpired `exp`; throws
 * `unauthorized` otherwise.
 *
 * A token that passed is remembered until its `exp` (the exact string, under this secret and
 * algorithm): a client sends the same token with every request, and webcrypto's HMAC verification
 * through jose was ≈ 9 % of the api's CPU on POST /v1/uploads (bench:api --cpu-prof). Only the
 * signature and claims are remembered; the session is still checked on every request.
 */
export async function verifyToken(config: TokenConfig, token: string): Promise<VerifiedToken> {
  if (!canonicalCompact(token)) throw unauthorized();
  const id = `${config.algorithm}:${config.secret}:${token}`;
  const hit = verified.get(id);
  if (hit && hit.expiresAtMs > Date.now()) return hit;
  try {
    const { payload } = await jwtVerify(token, await keyOf(config), {
      algorithms: [config.algorithm],
      requiredClaims: ["exp", "sub", "sid"],
    });
    if (typeof payload.sub !== "string" || typeof payload.sid !== "string") throw new Error("bad claims");
    if (!uuid.test(payload.sub) || !uuid.test(payload.sid)) throw new Error("bad claims");
    // jose refuses a token once now >= exp (seconds); remembered until that same instant.
    const claims = { userId: payload.sub, sessionId: payload.sid, expiresAtMs: (payload.exp as number) * 1000 };
    if (verified.size >= VERIFIED_MAX) verified.clear();
    verified.set(id, claims);
    return claims;
  } catch {
    if (hit) verified.delete(id);
    throw unauthorized();
  }
}

const unauthorized = () => new AppError("unauthorized", "Sign in again: the token is missing, invalid or expired");
