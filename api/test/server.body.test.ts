// Request bodies through the real Node server (api/src/server.ts): a body declared by Content-Length
// is judged by that header and read straight from the socket; a chunked one is counted as it arrives.
// Either way JSON is parsed as JSON, and a body over the limit is 413 in the error envelope.
import http from "node:http";
import type { Spawned } from "@faceapp/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../src/app.ts";
import { bearer, signUp, spawnApiProcess, useApi } from "@faceapp/testkit/api";

const api = useApi();
let server: Spawned | undefined;
let port = 0;
beforeAll(async () => {
  const started = await spawnApiProcess(api);
  server = started.server;
  port = started.port;
});
afterAll(async () => {
  await server?.stop("SIGKILL");
});

/** POSTs `chunks` as they are: with a Content-Length when `declared` is set, chunked otherwise. */
function post(path: string, headers: Record<string, string>, chunks: string[], declared?: number) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: {
          ...headers,
          "content-type": "application/json",
          ...(declared === undefined ? {} : { "content-length": String(declared) }),
        },
      },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on("error", reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe("a JSON body sent to the real server", () => {
  it("is parsed whether its length is declared or chunked", async () => {
    const { token } = await signUp(api.app);
    const json = JSON.stringify({ contentType: "image/png", byteSize: 100 });
    const declared = await post("/v1/uploads", bearer(token), [json], Buffer.byteLength(json));
    expect(declared.status).toBe(201);
    const chunked = await post("/v1/uploads", bearer(token), [json.slice(0, 10), json.slice(10)]);
    expect(chunked.status).toBe(201);
    const bad = await post("/v1/uploads", bearer(token), ["{nope"], 5);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe("invalid_input");
  });

  it("over the limit is 413, by its declared length or as it arrives", async () => {
    const { token } = await signUp(api.app);
    const big = JSON.stringify({ pad: "x".repeat(MAX_BODY_BYTES) });
    for (const sent of [
      await post("/v1/uploads", bearer(token), [big], Buffer.byteLength(big)),
      await post("/v1/uploads", bearer(token), [big.slice(0, 1000), big.slice(1000)]),
    ]) {
      expect(sent.status).toBe(413);
      expect(JSON.parse(sent.body).error.code).toBe("payload_too_large");
    }
  });
});
