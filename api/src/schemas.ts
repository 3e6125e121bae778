// Request and response schemas of the public api: the one source of the routes' validation, OpenAPI,
// the services' response types (inferred here) and the web client's types (generated from OpenAPI).
// Requests are strict (unknown fields refused); so are responses, which the api's tests check every
// response against (api/test/helpers.ts), so a service and its schema cannot drift apart.
import * as v from "valibot";
import { SqlText } from "./http/validate.ts";
import { ChildName } from "./personalization-schemas.ts";
import { UPLOAD_TYPES } from "./services/image-check.ts";
import { MAX_UPLOAD_BYTES } from "./services/uploads.ts";

export const Credentials = v.strictObject({
  email: v.pipe(v.string(), v.trim(), v.maxLength(254), v.email()),
  password: v.pipe(v.string(), v.minLength(8), v.maxLength(256)),
});
export type Credentials = v.InferOutput<typeof Credentials>;

export const User = v.strictObject({ id: v.string(), email: v.string(), createdAt: v.string() });
export type User = v.InferOutput<typeof User>;
export const AuthResult = v.strictObject({ token: v.string(), user: User });
export const Me = v.strictObject({ user: User });
/** Who a request's session belongs to, if anyone: a signed-out browser is an answer, not an error. */
export const Session = v.strictObject({ user: v.nullable(User) });

const QueryInt = (min: number, max: number) =>
  v.pipe(v.string(), v.regex(/^\d{1,3}$/), v.transform(Number), v.minValue(min), v.maxValue(max));

export const BookQuery = v.strictObject({
  category: v.optional(SqlText(1, 60)),
  /** Books whose age range overlaps [ageMin, ageMax]. */
  ageMin: v.optional(QueryInt(0, 18)),
  ageMax: v.optional(QueryInt(0, 18)),
  /** Words searched in title, description and category. */
  q: v.optional(v.pipe(v.string(), v.trim(), SqlText(1, 100))),
  cursor: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,200}$/))),
  limit: v.optional(QueryInt(1, 100), "20"),
});
export const BookSlug = v.strictObject({
  slug: v.pipe(v.string(), v.regex(/^[a-z0-9]+(-[a-z0-9]+)*$/), v.maxLength(80)),
});

const BookSummary = v.strictObject({
  slug: v.string(),
  title: v.string(),
  description: v.string(),
  category: v.string(),
  language: v.string(),
  ageMin: v.number(),
  ageMax: v.number(),
  pageCount: v.number(),
  coverUrl: v.string(),
});
export type BookSummary = v.InferOutput<typeof BookSummary>;
export const BookList = v.strictObject({ items: v.array(BookSummary), nextCursor: v.nullable(v.string()) });
export const BookDetail = v.strictObject({
  ...BookSummary.entries,
  /** Page ids of the free preview, in order (front cover first). */
  previewPages: v.array(v.string()),
  pages: v.array(
    v.strictObject({ page: v.string(), availability: v.picklist(["prepay", "postpay"]), needsFace: v.boolean() }),
  ),
});
export type BookDetail = v.InferOutput<typeof BookDetail>;

export const CreateUpload = v.strictObject({
  contentType: v.picklist(UPLOAD_TYPES),
  byteSize: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_UPLOAD_BYTES)),
});
export type CreateUpload = v.InferOutput<typeof CreateUpload>;

export const UploadId = v.strictObject({ id: v.pipe(v.string(), v.uuid()) });

export const UploadTicket = v.strictObject({
  id: v.string(),
  url: v.string(),
  fields: v.record(v.string(), v.string()),
  expiresAt: v.string(),
  maxBytes: v.number(),
});
export type UploadTicket = v.InferOutput<typeof UploadTicket>;

export const Upload = v.strictObject({
  id: v.string(),
  status: v.picklist(["pending", "ready", "rejected"]),
  contentType: v.string(),
  declaredBytes: v.number(),
  width: v.nullable(v.number()),
  height: v.nullable(v.number()),
  bytes: v.nullable(v.number()),
  sha256: v.nullable(v.string()),
  rejectReason: v.nullable(v.string()),
  createdAt: v.string(),
  verifiedAt: v.nullable(v.string()),
});
export type Upload = v.InferOutput<typeof Upload>;
export const UploadWithUrl = v.strictObject({
  ...Upload.entries,
  url: v.nullable(v.string()),
  urlExpiresAt: v.nullable(v.string()),
});
export type UploadWithUrl = v.InferOutput<typeof UploadWithUrl>;

/** GET /v1/books/:slug/name-forms: the name as that book would print it, before the parent commits to it. */
export const NameFormsQuery = v.strictObject({
  name: ChildName,
  gender: v.optional(v.picklist(["girl", "boy", "unspecified"])),
});
export const NameFormsPreview = v.strictObject({
  language: v.string(),
  /** The language declines the name by gender: the form should ask for it. */
  needsGender: v.boolean(),
  /** The gender the forms were made for: the one given, else the library's guess (null: none). */
  gender: v.nullable(v.picklist(["girl", "boy"])),
  guessed: v.boolean(),
  /** The forms the book's text and the app's sentences use, by form (`gen`, `voc`, `poss` …). */
  forms: v.record(v.string(), v.string()),
  /** Characters no font of the book can draw: generate would refuse the name. */
  undrawable: v.array(v.strictObject({ character: v.string(), codePoint: v.string() })),
});
export type NameFormsPreview = v.InferOutput<typeof NameFormsPreview>;
