// Password guessing, limited without handing attackers a switch that locks an owner out. Counted per
// client address (every attempt), per address and account (failures, then a doubling backoff), and per
// account from all addresses (failures): an account under attack from many addresses slows every
// address that fails on it, but a new address still gets its try, so the owner still signs in.
import { createHash } from "node:crypto";
import { AppError } from "@faceapp/core";
import type { RateLimiter } from "./rate-limit.ts";

export interface GuardLimits {
  /** Attempts per client address in a window, whatever the accounts (AUTH_RATE_LIMIT_PER_IP). */
  perIp: number;
  /** Failures per address and account that start its backoff (AUTH_RATE_LIMIT_PER_IP_EMAIL). */
  perIpAndEmail: number;
  /** Failures per account, from all addresses, past which it is under attack (AUTH_RATE_LIMIT_PER_EMAIL). */
  perEmail: number;
  windowSeconds: number;
}

/** Under attack, an address that fails waits this long at first, doubling. */
export const UNDER_ATTACK_FIRST_HOLD_SECONDS = 60;

/**
 * The hold after a failure: none before the pair's `perIpAndEmail`-th failure, then 2, 4, 8 … s; on an
 * account under attack 60, 120, 240 … s from the first. Never longer than the window.
 */
export function holdSeconds(pairFailures: number, accountFailures: number, limits: GuardLimits): number {
  const doubling = (first: number, step: number) => Math.min(limits.windowSeconds, first * 2 ** Math.min(step, 20));
  if (accountFailures > limits.perEmail) return doubling(UNDER_ATTACK_FIRST_HOLD_SECONDS, pairFailures - 1);
  if (pairFailures < limits.perIpAndEmail) return 0;
  return doubling(2, pairFailures - limits.perIpAndEmail);
}

const emailKey = (normalizedEmail: string) => createHash("sha256").update(normalizedEmail).digest("hex").slice(0, 32);

const tooMany = (retryAfter: number) =>
  new AppError("rate_limited", "Too many attempts: try again later", { retryAfter: Math.max(1, retryAfter) });

export function loginGuard(limiter: RateLimiter, limits: GuardLimits) {
  const keys = (action: string, ip: string, email: string) => {
    const account = emailKey(email);
    return {
      ip: `${action}:ip:${ip}`,
      pair: `${action}:pair:${ip}:${account}`,
      hold: `${action}:hold:${ip}:${account}`,
      account: `${action}:account:${account}`,
    };
  };
  return {
    /** Before an attempt: counts it for the address; 429 while the address is over or this pair is held. */
    async admit(action: "login" | "signup", ip: string, email: string): Promise<void> {
      const k = keys(action, ip, email);
      const perIp = await limiter.hit(k.ip, limits.perIp, limits.windowSeconds);
      if (!perIp.allowed) throw tooMany(perIp.retryAfter);
      const held = await limiter.heldFor(k.hold);
      if (held > 0) throw tooMany(held);
    },
    /** After a refused attempt (wrong password, unknown email, email taken): counts it, maybe holds the pair. */
    async failed(action: "login" | "signup", ip: string, email: string): Promise<void> {
      const k = keys(action, ip, email);
      const [pairFailures, accountFailures] = await Promise.all([
        limiter.count(k.pair, limits.windowSeconds),
        limiter.count(k.account, limits.windowSeconds),
      ]);
      const hold = holdSeconds(pairFailures, accountFailures, limits);
      if (hold > 0) await limiter.hold(k.hold, hold);
    },
    /** After a success: this address's failures on the account are forgotten. */
    async succeeded(action: "login" | "signup", ip: string, email: string): Promise<void> {
      const k = keys(action, ip, email);
      await Promise.all([limiter.clear(k.pair), limiter.clear(k.hold)]);
    },
  };
}

export type LoginGuard = ReturnType<typeof loginGuard>;
