// The web client against the api's OpenAPI document: the generated types are current, and every
// operation the app calls exists with that method.
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { apiOpenApi, generatedFile, generateTypes } from "../scripts/openapi-types.ts";

const webRoot = path.resolve(import.meta.dirname, "..");
// Formatting aside: whitespace, separators, and the leading `|` biome puts before a union it breaks.
const squash = (text: string) => text.replace(/[\s;,]+/g, "").replace(/([<:(])\|/g, "$1");

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith(".gen.ts") ? [full] : [];
  });
}

describe("the api client and the OpenAPI document", () => {
  let doc: Awaited<ReturnType<typeof apiOpenApi>>;
  beforeAll(async () => {
    doc = await apiOpenApi();
  });

  it("has generated types matching the document (run `npm run generate:api -w @faceapp/web` if not)", () => {
    expect(squash(fs.readFileSync(generatedFile, "utf8"))).toBe(squash(generateTypes(doc)));
  });

  it("calls only operations the api has, with their methods", () => {
    const used = new Set<string>();
    for (const file of [...sources(path.join(webRoot, "src")), ...sources(path.join(webRoot, "test"))]) {
      for (const m of fs
        .readFileSync(file, "utf8")
        .matchAll(/\b(?:call|url)\(\s*"(GET|POST|PUT|PATCH|DELETE) (\/[^"]*)"/g))
        used.add(`${m[1]} ${m[2]}`);
    }
    expect(used.size).toBeGreaterThanOrEqual(15);
    for (const op of used) {
      const [method, route] = op.split(" ") as [string, string];
      expect(doc.paths[route]?.[method.toLowerCase()], op).toBeDefined();
    }
  });

  it("covers every route the issue needs", () => {
    const ops = Object.entries(doc.paths).flatMap(([route, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${route}`),
    );
    for (const needed of [
      "POST /v1/auth/signup",
      "POST /v1/auth/login",
      "POST /v1/auth/logout",
      "GET /v1/me",
      "GET /v1/books",
      "GET /v1/books/{slug}",
      "POST /v1/uploads",
      "POST /v1/uploads/{id}/complete",
      "POST /v1/personalizations",
      "GET /v1/personalizations",
      "GET /v1/personalizations/{id}",
      "POST /v1/personalizations/{id}/generate",
      "POST /v1/personalizations/{id}/regenerate",
      "PUT /v1/personalizations/{id}/photo",
      "POST /v1/personalizations/{id}/confirm",
      "POST /v1/personalizations/{id}/cancel",
      "GET /v1/personalizations/{id}/files/{name}",
      "GET /v1/personalizations/{id}/events",
      "POST /v1/webhooks",
      "GET /v1/webhooks",
      "GET /v1/webhooks/{id}",
      "DELETE /v1/webhooks/{id}",
      "POST /v1/webhooks/{id}/rotate-secret",
      "GET /v1/webhooks/{id}/deliveries",
      "POST /v1/webhooks/{id}/deliveries/{deliveryId}/retry",
    ])
      expect(ops).toContain(needed);
  });
});
