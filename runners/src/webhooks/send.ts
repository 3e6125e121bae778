import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { ResolvedTarget } from "@faceapp/core";

// One webhook attempt over the wire: a POST to the address that was checked (the agent's lookup
// answers with it, whatever DNS says by now; TLS still verifies the certificate against the host
// name), no redirect followed (a 3xx is a failed attempt), short connect and total bounds, and at most
// `maxResponseBytes` of the answer read before the connection is dropped.

export interface SendLimits {
  connectTimeoutMs: number;
  timeoutMs: number;
  maxResponseBytes: number;
}

export interface SendResult {
  status: number | null;
  /** The start of the response body, as text (NUL characters removed: PostgreSQL text refuses them). */
  body: string;
  /** Why the attempt failed before an answer came (refused, timed out, reset). */
  error: string | null;
}

export function sendPinned(
  target: ResolvedTarget,
  headers: Record<string, string>,
  body: string,
  limits: SendLimits,
): Promise<SendResult> {
  const { address, family } = target;
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const client = target.url.protocol === "https:" ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let received = 0;
    let status: number | null = null;
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      clearTimeout(connect);
      const text = Buffer.concat(chunks).subarray(0, limits.maxResponseBytes).toString("utf8").replace(/\0/g, "");
      resolve({ status, body: text, error });
      req.destroy();
    };
    const req = client.request(target.url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
      lookup: pinned,
      // A fresh connection per attempt: nothing pooled outlives its check. TLS still names and
      // verifies the host of the URL (SNI, certificate), not the address.
      agent: false,
    });
    const total = setTimeout(() => finish(`no answer within ${limits.timeoutMs} ms`), limits.timeoutMs);
    const connect = setTimeout(
      () => finish(`could not connect within ${limits.connectTimeoutMs} ms`),
      limits.connectTimeoutMs,
    );
    req.on("socket", (socket) => {
      socket.once(target.url.protocol === "https:" ? "secureConnect" : "connect", () => clearTimeout(connect));
    });
    req.on("error", (err) => finish(err.message));
    req.on("response", (res) => {
      status = res.statusCode ?? null;
      clearTimeout(connect);
      res.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= limits.maxResponseBytes) finish(null);
      });
      res.on("end", () => finish(null));
      res.on("error", (err) => finish(err.message));
    });
    req.end(body);
  });
}
