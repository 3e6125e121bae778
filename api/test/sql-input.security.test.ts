// Every value a route hands to SQL is checked first: fast-check over the query strings, cursors
// (query cursors and Last-Event-ID) and path parameters of every route, with the values PostgreSQL
// refuses (NUL, bytes that are not UTF-8, lone surrogates, out-of-range integers and times, malformed
// uuids, huge and negative numbers), against the api on its real PostgreSQL. Never a 5xx; every
// refusal in the error envelope.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { long, record } from "@faceapp/testkit";
import { bearer, body, signUp, useApi, book, createPersonalization, readyPhoto } from "@faceapp/testkit/api";

const api = useApi();
const RUNS = long ? 2_000 : 250;
let token = "";
let ids = { personalization: "", upload: "" };

beforeAll(async () => {
  await book(api, { slug: "sql-book" });
  token = (await signUp(api.app, "sql")).token;
  const upload = await readyPhoto(api.app, token);
  const created = await body(await createPersonalization(api.app, token, "sql-book", upload));
  ids = { personalization: created.id, upload };
});

/** Percent-encodes every byte: any byte sequence, UTF-8 or not, NUL included. */
const percent = (bytes: Uint8Array) => [...bytes].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
/** Percent-encodes a string's UTF-16 units as UTF-8 would, lone surrogates too (as ED A0 80 …). */
const utf8ish = (s: string) =>
  [...s]
    .map((ch) => {
      const code = ch.codePointAt(0)!;
      if (code >= 0xd800 && code <= 0xdfff)
        return percent(Uint8Array.of(0xed, 0xa0 | ((code >> 6) & 0x1f), 0x80 | (code & 0x3f)));
      return encodeURIComponent(ch);
    })
    .join("");

const NUMBERS = [
  "-1",
  "0",
  "-0",
  "1.5",
  "1e3",
  "1e308",
  "NaN",
  "Infinity",
  "0x10",
  " 1",
  "32767",
  "32768",
  "2147483647",
  "2147483648",
  "-2147483649",
  "9223372036854775807",
  "9223372036854775808",
  "99999999999999999999999999",
];
const UUIDISH = [
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
  "a0eebc999c0b4ef8bb6d6bb9bd380a11",
  "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
  "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g",
  "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\u0000",
];

/** Text as it reaches a route, encoded for a URL: any code point, NUL and lone surrogates included. */
const hostileText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }),
  fc
    .tuple(fc.string({ maxLength: 6 }), fc.constantFrom("\u0000", "\ud800", "\udc00"), fc.string({ maxLength: 6 }))
    .map((parts) => parts.join("")),
  fc.string({ unit: fc.constantFrom("\u0000", "\ud800", "\udfff", "a", "é", "\uffff", "%", "'", "\\"), maxLength: 12 }),
  fc.constantFrom(...NUMBERS, ...UUIDISH, "\u0000", "a\u0000b", "\ud800", "x".repeat(5000)),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.uuid().map(String),
);
const encodedValue = fc.oneof(hostileText.map(utf8ish), fc.uint8Array({ maxLength: 16 }).map(percent));

/** A PostgreSQL-style timestamptz whose every field may be out of range. */
const timestampish = fc
  .tuple(
    fc.integer({ min: 0, max: 9999 }),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 0, max: 99 }),
    fc.option(fc.integer({ min: 0, max: 999_999 })),
    fc.constantFrom("+", "-"),
    fc.integer({ min: 0, max: 99 }),
    fc.option(fc.integer({ min: 0, max: 99 })),
  )
  .map(([y, mo, d, h, mi, s, frac, sign, oh, om]) => {
    const p = (n: number, w = 2) => String(n).padStart(w, "0");
    return `${p(y, 4)}-${p(mo)}-${p(d)} ${p(h)}:${p(mi)}:${p(s)}${frac === null ? "" : `.${frac}`}${sign}${p(oh)}${om === null ? "" : `:${p(om)}`}`;
  });
const b64 = (text: string) => Buffer.from(text).toString("base64url");
/** Cursors: the shape our own cursors have with hostile fields, other JSON, and any bytes. */
const cursor = fc.oneof(
  fc
    .tuple(fc.oneof(timestampish, hostileText), fc.oneof(fc.uuid().map(String), hostileText))
    .map((t) => b64(JSON.stringify(t))),
  fc.jsonValue().map((v) => b64(JSON.stringify(v) ?? "")),
  hostileText.map(b64),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString("base64url")),
  encodedValue,
);

/** Answers by status, for the suite's report. */
const answers: Record<string, number> = {};
afterAll(() =>
  record("sql-input", {
    requests: Object.values(answers).reduce((a, b) => a + b, 0),
    ...Object.fromEntries(Object.entries(answers).map(([status, n]) => [`answered ${status}`, n])),
  }),
);

async function expectNo5xx(path: string, init: RequestInit = {}) {
  const res = await api.app.request(path, {
    ...init,
    headers: { ...bearer(token), ...init.headers },
    redirect: "manual",
  });
  answers[res.status] = (answers[res.status] ?? 0) + 1;
  expect(res.status, path).toBeLessThan(500);
  if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
    await res.body?.cancel();
    return;
  }
  const text = await res.text();
  if (res.status >= 400) {
    expect(JSON.parse(text).error, path).toMatchObject({ code: expect.any(String), requestId: expect.any(String) });
  }
}

const queryOf = (entries: [string, string][]) => entries.map(([k, v]) => `${k}=${v}`).join("&");

describe("query strings and cursors", () => {
  it(`GET /v1/books: ${RUNS} hostile filter sets`, async () => {
    // One filter hostile at a time, the others plausible or absent, so the hostile value reaches the query.
    const plausible = fc.record(
      {
        category: fc.constant("adventure"),
        ageMin: fc.integer({ min: 0, max: 18 }).map(String),
        ageMax: fc.integer({ min: 0, max: 18 }).map(String),
        q: fc.constantFrom("moon", "sql book"),
        cursor: fc.constant(b64("a-book")),
        limit: fc.integer({ min: 1, max: 100 }).map(String),
      },
      { requiredKeys: [] },
    );
    const hostile = fc.oneof(
      fc.tuple(fc.constantFrom("category", "ageMin", "ageMax", "q", "limit", "x"), encodedValue),
      fc.tuple(fc.constant("cursor"), cursor),
    );
    await fc.assert(
      fc.asyncProperty(plausible, hostile, (filters, [key, value]) =>
        expectNo5xx(`/v1/books?${queryOf(Object.entries({ ...filters, [key]: value }))}`),
      ),
      { numRuns: RUNS },
    );
  });

  it(`GET /v1/personalizations: ${RUNS} hostile cursors and limits`, async () => {
    const entries = fc.array(
      fc.oneof(
        cursor.map((c) => ["cursor", c] as [string, string]),
        encodedValue.map((v) => ["limit", v] as [string, string]),
      ),
      { maxLength: 3 },
    );
    await fc.assert(
      fc.asyncProperty(entries, (e) => expectNo5xx(`/v1/personalizations?${queryOf(e)}`)),
      { numRuns: RUNS },
    );
  });

  it(`GET …/:id/events: ${RUNS} hostile Last-Event-IDs`, async () => {
    const lastEventId = fc
      .oneof(hostileText, fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String))
      .filter((v) => /^[\t\x20-\x7e]*$/.test(v) && v.trim() === v); // what an HTTP header can carry
    await fc.assert(
      fc.asyncProperty(lastEventId, (id) =>
        expectNo5xx(`/v1/personalizations/${ids.personalization}/events`, { headers: { "last-event-id": id } }),
      ),
      { numRuns: RUNS },
    );
  });

  it("the cases that were 500s: NUL in a filter, times PostgreSQL refuses in a cursor", async () => {
    const uuid = crypto.randomUUID();
    for (const path of [
      "/v1/books?category=%00",
      "/v1/books?category=a%00b",
      "/v1/books?q=%00",
      ...["2026-13-01 00:00:00+00", "2026-02-30 00:00:00+00", "2026-01-01 24:00:00+00", "0000-01-01 00:00:00+00"].map(
        (t) => `/v1/personalizations?cursor=${b64(JSON.stringify([t, uuid]))}`,
      ),
    ]) {
      const res = await api.app.request(path, { headers: bearer(token) });
      expect(res.status, path).toBe(400);
      expect((await body(res)).error.code).toBe("invalid_input");
    }
  });
});

describe("path parameters", () => {
  const ROUTES: [string, string, unknown?][] = [
    ["GET", "/v1/books/:x"],
    ["GET", "/v1/uploads/:x"],
    ["POST", "/v1/uploads/:x/complete"],
    ["GET", "/v1/personalizations/:x"],
    ["POST", "/v1/personalizations/:x/generate", { childName: "Ada" }],
    ["POST", "/v1/personalizations/:x/regenerate"],
    ["POST", "/v1/personalizations/:x/confirm"],
    ["POST", "/v1/personalizations/:x/cancel"],
    ["PUT", "/v1/personalizations/:x/photo", { photoUploadId: "upload" }],
    ["GET", "/v1/personalizations/:x/events"],
    ["GET", "/v1/personalizations/:x/files/block.pdf"],
    ["GET", "/v1/personalizations/own/files/:x"],
  ];
  it(`${RUNS} hostile ids, slugs and names over every route that takes one`, async () => {
    const segment = fc.oneof(
      encodedValue.filter((v) => v.length > 0),
      fc.constantFrom(...UUIDISH.map(utf8ish)),
    );
    const photoId = fc.oneof(fc.constant(null), hostileText);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), segment, photoId, async ([method, template, payload], x, photo) => {
        const path = template.replace(":x", x).replace("own", ids.personalization);
        const json =
          payload && typeof payload === "object" && "photoUploadId" in payload
            ? { photoUploadId: photo ?? ids.upload }
            : payload;
        await expectNo5xx(path, {
          method,
          ...(method === "GET"
            ? {}
            : { body: JSON.stringify(json ?? {}), headers: { "content-type": "application/json" } }),
        });
      }),
      { numRuns: RUNS },
    );
  });
});
