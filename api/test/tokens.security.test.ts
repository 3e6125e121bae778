// verifyToken remembers the tokens it verified (the exact string, under one secret and algorithm)
// until their exp: a remembered token must be refused exactly when jose would refuse it again.
import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signToken, verifyToken } from "../src/services/tokens.ts";

const config = { secret: "a-test-secret-of-at-least-thirty-two-chars", algorithm: "HS256" as const };
const claims = () => ({ userId: randomUUID(), sessionId: randomUUID() });

afterEach(() => {
  vi.useRealTimers();
});

describe("a verified token, remembered", () => {
  it("gives the same claims again, and is refused from its exp on", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date(Date.UTC(2026, 10, 29, 12, 0, 0)));
    const mine = claims();
    const token = await signToken(config, mine, new Date(Date.now() + 60_000));
    expect(await verifyToken(config, token)).toEqual(mine);
    vi.setSystemTime(new Date(Date.now() + 59_999));
    expect(await verifyToken(config, token)).toEqual(mine);
    vi.setSystemTime(new Date(Date.now() + 1));
    await expect(verifyToken(config, token)).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("is not accepted under another secret or another algorithm", async () => {
    const token = await signToken(config, claims(), new Date(Date.now() + 60_000));
    await verifyToken(config, token);
    await expect(verifyToken({ ...config, secret: `${config.secret}!` }, token)).rejects.toMatchObject({
      code: "unauthorized",
    });
    await expect(verifyToken({ ...config, algorithm: "HS384" }, token)).rejects.toMatchObject({
      code: "unauthorized",
    });
  });

  it("does not make a token that differs in any byte pass", async () => {
    const token = await signToken(config, claims(), new Date(Date.now() + 60_000));
    await verifyToken(config, token);
    const last = token.at(-1) === "A" ? "B" : "A";
    await expect(verifyToken(config, `${token.slice(0, -1)}${last}`)).rejects.toMatchObject({ code: "unauthorized" });
    const { sub, sid } = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    const unsignedSid = await new SignJWT({ sid })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(sub)
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-of-thirty-two-characters!"));
    await expect(verifyToken(config, unsignedSid)).rejects.toMatchObject({ code: "unauthorized" });
  });
});
