// The per-address limits against a client that writes its own X-Forwarded-For, and password guessing
// limited without a switch that locks an account's owner out. Each case runs with counters in memory
// and in Redis (shared by api replicas).
import { describeWithRedis, record } from "@faceapp/testkit";
import { describe, expect, it } from "vitest";
import type { App } from "../src/app.ts";
import { UNDER_ATTACK_FIRST_HOLD_SECONDS } from "../src/services/login-guard.ts";
import { body, email, jsonInit, PASSWORD, signUp, useApi } from "@faceapp/testkit/api";

const api = useApi();
let forged = 0;
/** A leftmost X-Forwarded-For entry that is new on every call: what a client rotating it sends. */
const spoofed = () => `198.18.${(++forged >> 8) & 255}.${forged & 255}`;

const signup = (app: App, xff: string) =>
  app.request(
    "/v1/auth/signup",
    jsonInit("POST", { email: email("xff"), password: PASSWORD }, { "x-forwarded-for": xff }),
  );
const login = (app: App, address: string, password: string, xff: string) =>
  app.request("/v1/auth/login", jsonInit("POST", { email: address, password }, { "x-forwarded-for": xff }));

async function statuses(n: number, attempt: (i: number) => Response | Promise<Response>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await attempt(i)).status);
  return out;
}

// Which address a request is counted under does not depend on where the counters live: in memory,
// each app its own counters.
describe("the client address behind trusted proxies", () => {
  const build = (env: Record<string, string>) =>
    api.build({ redis: false, env: { AUTH_RATE_LIMIT_WINDOW_SECONDS: "600", ...env } });

  it("rotating the leftmost X-Forwarded-For entry does not escape the per-address signup limit (one proxy)", async () => {
    for (const trust of ["1", "true"]) {
      const app = build({ TRUST_PROXY: trust, AUTH_RATE_LIMIT_PER_IP: "3" });
      // nginx appends the address it saw (203.0.113.5) to whatever the client wrote.
      expect(await statuses(4, () => signup(app, `${spoofed()}, 203.0.113.5`))).toEqual([201, 201, 201, 429]);
      // Another client behind the same proxy is its own address.
      expect((await signup(app, `${spoofed()}, 203.0.113.6`)).status).toBe(201);
    }
    record(
      "X-Forwarded-For rotated by the client",
      { perIpLimit: 3, signupsWithRotatedEntry: 4, allowed: 3 },
      "Defences",
    );
  });

  it("rotating it does not escape the per-address login limit either (a load balancer, then nginx)", async () => {
    const app = build({ TRUST_PROXY: "2", AUTH_RATE_LIMIT_PER_IP: "3" });
    // client → load balancer (appends 192.0.2.10) → nginx (appends the balancer, 10.0.0.2) → api
    const codes = await statuses(4, () =>
      login(app, email("rotating"), "wrong password", `${spoofed()}, 192.0.2.10, 10.0.0.2`),
    );
    expect(codes).toEqual([401, 401, 401, 429]);
    expect((await login(app, email("other"), "wrong password", `${spoofed()}, 192.0.2.11, 10.0.0.2`)).status).toBe(401);
  });

  it("takes no address from a request that did not pass every trusted proxy, nor any with TRUST_PROXY=false", async () => {
    for (const [trust, xff] of [
      ["2", () => spoofed()],
      ["false", () => `${spoofed()}, ${spoofed()}`],
    ] as const) {
      const app = build({ TRUST_PROXY: trust, AUTH_RATE_LIMIT_PER_IP: "2" });
      // Whatever the header says, these all come from the same socket.
      expect(await statuses(3, () => signup(app, xff()))).toEqual([201, 201, 429]);
    }
  });
});

function suite(redis: boolean) {
  const build = (env: Record<string, string>) =>
    api.build({ redis, env: { AUTH_RATE_LIMIT_WINDOW_SECONDS: "600", ...env } });

  describe("password guessing", () => {
    const limits = {
      TRUST_PROXY: "1",
      AUTH_RATE_LIMIT_PER_IP: "12",
      AUTH_RATE_LIMIT_PER_IP_EMAIL: "3",
      AUTH_RATE_LIMIT_PER_EMAIL: "5",
    };

    it("an attacker failing on someone's account does not lock its owner out of another address", async () => {
      const app = build(limits);
      const owner = await signUp(api.app, "owner");
      const codes = await statuses(12, () => login(app, owner.user.email, "wrong guess", "203.0.113.66"));
      expect(codes.slice(0, 3)).toEqual([401, 401, 401]);
      expect(codes.slice(3)).toEqual(Array(9).fill(429));
      // Even the right password is refused from the attacker's address while it is held…
      expect((await login(app, owner.user.email, PASSWORD, "203.0.113.66")).status).toBe(429);
      // …and the owner, from their own, signs in.
      const mine = await login(app, owner.user.email, PASSWORD, "198.51.100.20");
      expect(mine.status).toBe(200);
      record(
        `password guessing on one account (${redis ? "Redis" : "memory"})`,
        {
          attackerTries: 12,
          passwordsChecked: codes.filter((c) => c === 401).length,
          ownerFromOwnAddress: mine.status,
        },
        "Defences",
      );
      expect((await body(mine)).user.id).toBe(owner.user.id);
    });

    it("an attacker hammering one account from one address is held, with Retry-After", async () => {
      const app = build(limits);
      const target = await signUp(api.app, "target");
      const codes = await statuses(6, () => login(app, target.user.email, "wrong guess", "203.0.113.67"));
      expect(codes).toEqual([401, 401, 401, 429, 429, 429]);
      const held = await login(app, target.user.email, "wrong guess", "203.0.113.67");
      expect((await body(held)).error.code).toBe("rate_limited");
      expect(Number(held.headers.get("retry-after"))).toBeGreaterThan(0);
    });

    it("an attacker rotating accounts from one address is limited by the per-address count", async () => {
      const app = build(limits);
      const codes = await statuses(14, () => login(app, email("victim"), "wrong guess", "203.0.113.68"));
      expect(codes).toEqual([...Array(12).fill(401), 429, 429]);
      // Existing accounts too, and with their right passwords: the address is over, not the accounts.
      const real = await signUp(api.app, "real");
      expect((await login(app, real.user.email, PASSWORD, "203.0.113.68")).status).toBe(429);
    });

    it("distributed guessing slows every failing address on the account, while a new address still gets its try", async () => {
      const app = build(limits);
      const owner = await signUp(api.app, "spread");
      // Six addresses, one guess each: past AUTH_RATE_LIMIT_PER_EMAIL (5) failures the account is under attack.
      const codes = await statuses(6, (i) => login(app, owner.user.email, "wrong guess", `192.0.2.${100 + i}`));
      expect(codes).toEqual([401, 401, 401, 401, 401, 401]);
      // The sixth address is held after its one failure (it would have had three free ones otherwise).
      const again = await login(app, owner.user.email, "wrong guess", "192.0.2.105");
      expect(again.status).toBe(429);
      expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(UNDER_ATTACK_FIRST_HOLD_SECONDS - 5);
      // A new address still gets one try; the owner from theirs signs in.
      expect((await login(app, owner.user.email, "wrong guess", "192.0.2.200")).status).toBe(401);
      expect((await login(app, owner.user.email, "wrong guess", "192.0.2.200")).status).toBe(429);
      expect((await login(app, owner.user.email, PASSWORD, "198.51.100.21")).status).toBe(200);
    });

    it("a success forgets the address's failures on that account", async () => {
      const app = build(limits);
      const owner = await signUp(api.app, "typo");
      expect(await statuses(2, () => login(app, owner.user.email, "a typo here", "198.51.100.22"))).toEqual([401, 401]);
      expect((await login(app, owner.user.email, PASSWORD, "198.51.100.22")).status).toBe(200);
      // Three free failures again, not one.
      expect(await statuses(3, () => login(app, owner.user.email, "a typo here", "198.51.100.22"))).toEqual([
        401, 401, 401,
      ]);
    });
  });
}

describe("counters in memory", () => suite(false));
describeWithRedis("counters in Redis", () => suite(true));
