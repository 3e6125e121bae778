// Property-based fuzzing of every JSON route of a real api process: random bodies, query strings and
// headers (tokens, cookies, origins, content types, idempotency keys, Last-Event-ID). Never a 5xx,
// every error in the envelope, the process stays up and its memory does not grow.
import fs from "node:fs";
import fc from "fast-check";
import { type Spawned, long, record } from "@faceapp/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { body, signUp, spawnApiProcess, useApi, book, createPersonalization, readyPhoto } from "@faceapp/testkit/api";

const api = useApi();
const RUNS = long ? 10_000 : 1_500;
let server: Spawned;
let base = "";
let token = "";
let ids: { personalization: string; upload: string } = { personalization: "", upload: "" };

beforeAll(async () => {
  await book(api, { slug: "fuzz-book" });
  const user = await signUp(api.app, "fuzz");
  token = user.token;
  const upload = await readyPhoto(api.app, token);
  const created = await body(await createPersonalization(api.app, token, "fuzz-book", upload));
  ids = { personalization: created.id, upload };
  ({ server, base } = await spawnApiProcess(api, {
    WEB_ORIGIN: "https://web.example",
    PASSWORD_SCRYPT_LOG_N: "12",
    AUTH_RATE_LIMIT_PER_IP: "100000",
    AUTH_RATE_LIMIT_PER_EMAIL: "100000",
    UPLOAD_RATE_LIMIT_PER_USER: "100000",
    WEB_DIST_DIR: "off",
  }));
});
afterAll(async () => {
  await server?.stop("SIGKILL");
});

/** Every route that takes or returns JSON; `:p` and `:u` are this user's personalisation and upload. */
const ROUTES = [
  ["POST", "/v1/auth/signup"],
  ["POST", "/v1/auth/login"],
  ["POST", "/v1/auth/logout"],
  ["GET", "/v1/me"],
  ["GET", "/v1/books"],
  ["GET", "/v1/books/fuzz-book"],
  ["POST", "/v1/uploads"],
  ["POST", "/v1/uploads/:u/complete"],
  ["GET", "/v1/uploads/:u"],
  ["POST", "/v1/personalizations"],
  ["GET", "/v1/personalizations"],
  ["GET", "/v1/personalizations/:p"],
  ["POST", "/v1/personalizations/:p/generate"],
  ["POST", "/v1/personalizations/:p/regenerate"],
  ["PUT", "/v1/personalizations/:p/photo"],
  ["POST", "/v1/personalizations/:p/confirm"],
  ["POST", "/v1/personalizations/:p/cancel"],
  ["GET", "/v1/personalizations/:p/events"],
  ["GET", "/v1/personalizations/:p/files/block.pdf"],
] as const;

/** Values that look like what the routes take, mixed with anything at all. */
const plausible = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    "fuzz-book",
    "image/jpeg",
    "image/gif",
    "Ада",
    "<script>alert(1)</script>",
    "'; drop table app.users; --",
    "a".repeat(10_000),
    -1,
    0,
    2 ** 53,
    1e308,
  ),
  fc.uuid().map(String),
);
const bodies = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .dictionary(
      fc.constantFrom(
        "email",
        "password",
        "contentType",
        "byteSize",
        "bookSlug",
        "photoUploadId",
        "childName",
        "childAge",
        "childGender",
        "__proto__",
        "constructor",
      ),
      plausible,
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constant(""),
);
const someId = () =>
  fc.oneof(
    fc.constant(null), // the real id
    fc.uuid().map(String),
    fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  );
const headers = fc.record(
  {
    authorization: fc.oneof(
      fc.constant("real"),
      fc.string({ maxLength: 80 }).map((s) => `Bearer ${s}`),
      fc.constantFrom("Bearer", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "bearer real"),
    ),
    "content-type": fc.constantFrom(
      "application/json",
      "application/json; charset=utf-16",
      "text/plain",
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
      "",
    ),
    cookie: fc.oneof(fc.string({ maxLength: 80 }), fc.constant("faceapp_session=real")),
    origin: fc.constantFrom("https://web.example", "https://evil.example", "null", ""),
    "x-requested-with": fc.constantFrom("XMLHttpRequest", "x"),
    "idempotency-key": fc.string({ maxLength: 300 }),
    "last-event-id": fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.integer().map(String),
      fc.constant("99999999999999999999"),
    ),
    accept: fc.constantFrom("text/event-stream", "application/json", "*/*", "text/html"),
    "accept-language": fc.string({ maxLength: 40 }),
  },
  { requiredKeys: [] },
);
const query = fc.dictionary(
  fc.constantFrom("category", "ageMin", "ageMax", "q", "cursor", "limit", "status", "page", "x"),
  fc.oneof(
    fc.string({ maxLength: 30 }),
    plausible.map((v) => JSON.stringify(v) ?? ""),
  ),
);

/** The api process's resident memory, in MB. */
function rssMb(): number {
  const status = fs.readFileSync(`/proc/${server.child.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** Header values fetch refuses (control characters, non-Latin-1) are dropped, as a browser would. */
function sendable(all: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) {
    const v = value === "real" ? `Bearer ${token}` : value.replace("real", token);
    if (/^[\t\x20-\x7e\x80-\xff]*$/.test(v) && v.trim() === v) out[name] = v;
  }
  return out;
}

let requests = 0;
async function probe(
  route: (typeof ROUTES)[number],
  pid: string | null,
  uid: string | null,
  payload: string,
  q: Record<string, string>,
  h: Record<string, string>,
) {
  const [method, template] = route;
  const path = template.replace(":p", pid ?? ids.personalization).replace(":u", uid ?? ids.upload);
  const qs = new URLSearchParams(q).toString();
  const res = await fetch(`${base}${path}${qs ? `?${qs}` : ""}`, {
    method,
    headers: sendable(h),
    body: method === "GET" ? undefined : payload,
    redirect: "manual",
    signal: AbortSignal.timeout(20_000),
  });
  requests++;
  expect(res.status, `${method} ${path}`).toBeLessThan(500);
  if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
    await res.body?.cancel();
    return;
  }
  const text = await res.text();
  if (res.status >= 400) {
    const envelope = JSON.parse(text);
    expect(envelope.error).toMatchObject({ code: expect.any(String), requestId: res.headers.get("x-request-id") });
  }
}

it(`${RUNS} random requests over every JSON route: no 5xx, always the envelope, no growth`, async () => {
  const requestArb = [fc.constantFrom(...ROUTES), someId(), someId(), bodies, query, headers] as const;
  // Warm-up, so that what is measured after is growth, not the first allocations.
  await fc.assert(fc.asyncProperty(...requestArb, probe), { numRuns: 300, seed: 1 });
  const warm = rssMb();
  await fc.assert(fc.asyncProperty(...requestArb, probe), { numRuns: RUNS });
  const after = rssMb();
  // The same requests again: a leak grows with the count, a cache or an allocator's arena does not.
  await fc.assert(fc.asyncProperty(...requestArb, probe), { numRuns: RUNS });
  const end = rssMb();
  expect(server.child.exitCode).toBeNull();
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  record("fuzz", {
    requests,
    rssWarmMb: Math.round(warm),
    rssAfterFirstRoundMb: Math.round(after),
    rssEndMb: Math.round(end),
  });
  expect(end - after).toBeLessThan(32);
});
