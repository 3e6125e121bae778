import dns from "node:dns";
import net from "node:net";
import ipaddr from "ipaddr.js";

// Where a webhook may be sent (no SSRF): https only, to a host whose every address is public unicast.
// The address classes come from ipaddr.js's range tables (loopback, private, link-local with the cloud
// metadata address, CGNAT, unique-local, multicast, unspecified, reserved, documentation, 6to4,
// Teredo, NAT64 …): anything but `unicast` is refused, and an IPv4-mapped IPv6 address is judged as the
// IPv4 address it carries. The check runs at registration and again before every attempt, and the
// attempt connects to the very address that was checked (runners/src/webhooks/send.ts), so a name
// that resolves elsewhere by then (DNS rebinding) gains nothing.

/** Resolves a host name to all its addresses (dns.lookup in production; tests give their own). */
export type LookupAll = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemLookup: LookupAll = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export interface TargetPolicy {
  /** Development and tests only (WEBHOOKS_ALLOW_LOCAL): http:// and loopback addresses are allowed too. */
  allowLocal: boolean;
  lookup: LookupAll;
}

/** A URL refused as a webhook target; the message says why, for the user who registered it. */
export class WebhookTargetError extends Error {
  override name = "WebhookTargetError";
}

/** The address class of an IP address as ipaddr.js names it (`unicast` is a public one). */
export function addressRange(address: string): string {
  let ip = ipaddr.parse(address);
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.range();
}

/** Why an address may not be sent to, or null when it may. */
export function addressRefusal(address: string, allowLocal: boolean): string | null {
  const range = addressRange(address);
  if (range === "unicast" || (allowLocal && range === "loopback")) return null;
  return `${address} is a ${range} address`;
}

/** The URL's own checks, before any name is resolved. */
export function parseTargetUrl(raw: string, allowLocal: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetError("the URL is not valid");
  }
  if (url.protocol !== "https:" && !(allowLocal && url.protocol === "http:"))
    throw new WebhookTargetError("the URL must use https");
  if (url.username || url.password) throw new WebhookTargetError("the URL must not hold a user name or password");
  if (url.hash) throw new WebhookTargetError("the URL must not hold a fragment");
  return url;
}

export interface ResolvedTarget {
  url: URL;
  /** The host name without IPv6 brackets. */
  host: string;
  /** The checked address the attempt connects to. */
  address: string;
  family: 4 | 6;
}

/**
 * Checks a URL and resolves its host: refused when any address it resolves to is not public. The
 * WHATWG URL parser has already turned decimal, octal and hex IPv4 forms into dotted quads, so an IP
 * literal is recognised whatever its spelling.
 */
export async function resolveTarget(raw: string, policy: TargetPolicy): Promise<ResolvedTarget> {
  const url = parseTargetUrl(raw, policy.allowLocal);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: { address: string; family: number }[];
  if (net.isIP(host)) addresses = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      addresses = await policy.lookup(host);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) throw new WebhookTargetError(`the host ${host} does not resolve`);
  }
  for (const { address } of addresses) {
    let refusal: string | null;
    try {
      refusal = addressRefusal(address, policy.allowLocal);
    } catch {
      refusal = `${address} is not an IP address`;
    }
    if (refusal) throw new WebhookTargetError(`the host resolves to a non-public address: ${refusal}`);
  }
  const first = addresses[0] as { address: string; family: number };
  return { url, host, address: first.address, family: first.family === 6 ? 6 : 4 };
}
