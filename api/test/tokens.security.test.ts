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
    const verified = { ...mine, expiresAtMs: Date.now() + 60_000 };
    expect(await verifyToken(config, token)).toEqual(verified);
    vi.setSystemTime(new Date(Date.now() + 59_999));
    expect(await verifyToken(config, token)).toEqual(verified);
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
    const [header, payload, signature] = token.split(".") as [string, string, string];
    // Every byte the signature holds, one bit flipped and written back canonically.
    const bytes = Buffer.from(signature, "base64url");
    expect(bytes).toHaveLength(32);
    for (let i = 0; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i]! ^= 1 << (i % 8);
      const forged = `${header}.${payload}.${changed.toString("base64url")}`;
      await expect(verifyToken(config, forged), `byte ${i}`).rejects.toMatchObject({ code: "unauthorized" });
    }
    const { sub, sid } = JSON.parse(Buffer.from(payload, "base64url").toString());
    const unsignedSid = await new SignJWT({ sid })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(sub)
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-of-thirty-two-characters!"));
    await expect(verifyToken(config, unsignedSid)).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("refuses another spelling of the same bytes (non-canonical base64url), remembered or not", async () => {
    const token = await signToken(config, claims(), new Date(Date.now() + 60_000));
    const [header, payload, signature] = token.split(".") as [string, string, string];
    // 43 characters for 32 bytes: the last one's two low bits are padding the decoder ignores.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(signature.at(-1)!);
    expect(last % 4).toBe(0);
    const aliases = [1, 2, 3].map((bits) => `${header}.${payload}.${signature.slice(0, -1)}${alphabet[last + bits]}`);
    for (const alias of aliases)
      expect(Buffer.from(alias.split(".")[2]!, "base64url")).toEqual(Buffer.from(signature, "base64url"));
    // Not yet remembered, then remembered: neither way does an alias pass.
    for (const alias of aliases)
      await expect(verifyToken(config, alias)).rejects.toMatchObject({ code: "unauthorized" });
    await verifyToken(config, token);
    for (const alias of aliases)
      await expect(verifyToken(config, alias)).rejects.toMatchObject({ code: "unauthorized" });
    // Padding, standard base64's alphabet and stray characters are other spellings too.
    for (const other of [
      `${token}=`,
      token.replace(/-/g, "+").replace(/_/g, "/"),
      ` ${token}`,
      `${header}.${payload}`,
    ]) {
      if (other === token) continue;
      await expect(verifyToken(config, other)).rejects.toMatchObject({ code: "unauthorized" });
    }
  });
});
