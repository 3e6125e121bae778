// SSRF: every address class a webhook must never reach, as a literal in the URL (in every spelling)
// and as what a host name resolves to; the resolver is one the test controls.
import { describe, expect, it } from "vitest";
import { openSecret, resolveTarget, sealSecret, newWebhookSecret, type LookupAll } from "../src/index.ts";

const refused: Record<string, string> = {
  "127.0.0.1": "loopback",
  "127.255.0.9": "loopback",
  "10.1.2.3": "private",
  "172.16.0.1": "private",
  "192.168.1.1": "private",
  "169.254.169.254": "linkLocal",
  "169.254.1.1": "linkLocal",
  "100.64.0.1": "carrierGradeNat",
  "224.0.0.1": "multicast",
  "0.0.0.0": "unspecified",
  "255.255.255.255": "broadcast",
  "192.0.2.1": "reserved",
  "198.18.0.1": "reserved",
  "::1": "loopback",
  "::": "unspecified",
  "fd00:ec2::254": "uniqueLocal",
  "fc00::1": "uniqueLocal",
  "fe80::1": "linkLocal",
  "ff02::1": "multicast",
  "::ffff:127.0.0.1": "loopback",
  "::ffff:10.0.0.1": "private",
  "::ffff:169.254.169.254": "linkLocal",
  "64:ff9b::7f00:1": "rfc6052",
  "2002:7f00:1::": "6to4",
  "2001::1": "teredo",
};

/** A resolver that answers every name with the given addresses. */
const resolvesTo =
  (...addresses: string[]): LookupAll =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
const policy = (lookup: LookupAll, allowLocal = false) => ({ lookup, allowLocal });
const nowhere: LookupAll = async () => {
  throw new Error("the test resolver was asked for a name");
};

describe("webhook targets", () => {
  for (const [address, range] of Object.entries(refused)) {
    it(`refuses a host resolving to ${address} (${range})`, async () => {
      await expect(resolveTarget("https://hooks.example.com/in", policy(resolvesTo(address)))).rejects.toThrow(
        new RegExp(`${range} address`),
      );
    });
    it(`refuses ${address} written in the URL`, async () => {
      const host = address.includes(":") ? `[${address}]` : address;
      await expect(resolveTarget(`https://${host}/in`, policy(nowhere))).rejects.toThrow(/non-public address/);
    });
  }

  it("refuses loopback written in decimal, octal, hex and short forms", async () => {
    for (const host of [
      "2130706433",
      "0177.0.0.1",
      "0x7f.0.0.1",
      "0x7f000001",
      "127.1",
      "017700000001",
      "[::ffff:7f00:1]",
    ])
      await expect(resolveTarget(`https://${host}/in`, policy(nowhere)), host).rejects.toThrow(/loopback address/);
    await expect(resolveTarget("https://0xa9.0xfe.0xa9.0xfe/", policy(nowhere))).rejects.toThrow(/linkLocal/);
  });

  it("refuses a host when any one of its addresses is not public", async () => {
    await expect(
      resolveTarget("https://hooks.example.com/", policy(resolvesTo("93.184.215.14", "10.0.0.5"))),
    ).rejects.toThrow(/10\.0\.0\.5 is a private address/);
  });

  it("accepts a public host and names the address to connect to", async () => {
    const target = await resolveTarget("https://hooks.example.com:8443/in?x=1", policy(resolvesTo("93.184.215.14")));
    expect(target).toMatchObject({ host: "hooks.example.com", address: "93.184.215.14", family: 4 });
    const v6 = await resolveTarget("https://[2606:4700::1]/", policy(nowhere));
    expect(v6).toMatchObject({ host: "2606:4700::1", address: "2606:4700::1", family: 6 });
  });

  it("refuses http, credentials, fragments and names that do not resolve", async () => {
    const lookup = resolvesTo("93.184.215.14");
    await expect(resolveTarget("http://hooks.example.com/", policy(lookup))).rejects.toThrow(/must use https/);
    await expect(resolveTarget("ftp://hooks.example.com/", policy(lookup, true))).rejects.toThrow(/must use https/);
    await expect(resolveTarget("https://u:p@hooks.example.com/", policy(lookup))).rejects.toThrow(/user name/);
    await expect(resolveTarget("https://hooks.example.com/#x", policy(lookup))).rejects.toThrow(/fragment/);
    await expect(resolveTarget("https://nxdomain.example/", policy(resolvesTo()))).rejects.toThrow(/does not resolve/);
    await expect(resolveTarget("not a url", policy(lookup))).rejects.toThrow(/not valid/);
  });

  it("allows http and loopback only with the development flag, and nothing else private even then", async () => {
    await expect(resolveTarget("http://127.0.0.1:9/", policy(nowhere, true))).resolves.toMatchObject({
      address: "127.0.0.1",
    });
    await expect(resolveTarget("http://localhost/", policy(resolvesTo("::1"), true))).resolves.toMatchObject({
      family: 6,
    });
    for (const address of ["10.0.0.1", "169.254.169.254", "fd00:ec2::254", "::ffff:192.168.0.1"])
      await expect(resolveTarget("http://h.test/", policy(resolvesTo(address), true)), address).rejects.toThrow(
        /non-public/,
      );
  });
});

describe("webhook secrets", () => {
  it("are whsec_ and 32 random bytes, sealed so the stored form reveals nothing and only the key opens it", () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    const key = "k".repeat(16) + "0123456789abcdef";
    const sealed = sealSecret(secret, key);
    expect(sealed).not.toContain(secret.slice(6, 20));
    expect(sealSecret(secret, key)).not.toBe(sealed);
    expect(openSecret(sealed, key)).toBe(secret);
    expect(() => openSecret(sealed, `${key}x`)).toThrow();
  });
});
