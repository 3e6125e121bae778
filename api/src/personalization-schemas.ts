// Request and response schemas of /v1/personalizations: the one source of validation, OpenAPI, the
// services' view types and the web client's types. Responses are strict: a field the schema does not
// name fails the api's tests (api/test/helpers.ts checks every response against its route's schema).
import { NAME_FORMS, type NameForm, type PrintFile, personalizationStatuses } from "@faceapp/core";
import * as v from "valibot";

const Uuid = v.pipe(v.string(), v.uuid());
const Gender = v.picklist(["girl", "boy", "unspecified"]);
/** The print files of a completed book. */
export const PrintFileName = v.picklist(["block.pdf", "cover.pdf", "pages.zip"] as const satisfies PrintFile[]);

/** Up to `max` characters of letters (any script), spaces, apostrophes and hyphens; NFC, trimmed, inner spaces collapsed. */
const nameText = (max: number) =>
  v.pipe(
    v.string(),
    v.maxLength(200),
    v.transform((s) => s.normalize("NFC").trim().replace(/\s+/gu, " ")),
    v.minLength(1, "must not be empty"),
    v.maxLength(max, `must be at most ${max} characters`),
    v.regex(/^(?=.*\p{L})[\p{L}\p{M} '’-]+$/u, "may hold letters, spaces, apostrophes and hyphens"),
  );

/** The child's name: 1–40 such characters. */
export const ChildName = nameText(40);

export const CreatePersonalization = v.strictObject({
  bookSlug: v.pipe(v.string(), v.regex(/^[a-z0-9]+(-[a-z0-9]+)*$/), v.maxLength(80)),
  photoUploadId: Uuid,
});
/** A form of the name as the parent corrected it ("Соломії"): the same characters, up to 60. */
const NameFormText = nameText(60);
/** The parent's corrections of the name's forms, by form (core's NAME_FORMS). */
export const NameFormsInput = v.strictObject(
  Object.fromEntries(NAME_FORMS.map((f) => [f, v.optional(NameFormText)])) as Record<
    NameForm,
    v.OptionalSchema<typeof NameFormText, undefined>
  >,
);
export const GeneratePreview = v.strictObject({
  childName: ChildName,
  childAge: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(18))),
  childGender: v.optional(Gender),
  /** Corrections of the forms the book prints (GET /v1/books/:slug/name-forms shows them). */
  childNameForms: v.optional(NameFormsInput),
});
export const ReplacePhoto = v.strictObject({ photoUploadId: Uuid });
export const PersonalizationId = v.strictObject({ id: Uuid });
/** Where a client's event stream starts: after the event its view already shows (`lastEventId`). */
export const EventsQuery = v.strictObject({
  after: v.optional(v.pipe(v.string(), v.regex(/^\d{1,18}$/, "must be an event id (digits)"))),
});
export const PersonalizationFile = v.strictObject({
  id: Uuid,
  name: PrintFileName,
});
export const PersonalizationQuery = v.strictObject({
  cursor: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,300}$/))),
  limit: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,3}$/), v.transform(Number), v.minValue(1), v.maxValue(100)),
    "20",
  ),
});
export const IdempotencyKey = v.pipe(
  v.string(),
  v.regex(/^[\x21-\x7e]{1,255}$/, "must be 1–255 visible ASCII characters"),
);

const Page = v.strictObject({
  page: v.string(),
  stage: v.picklist(["preview", "full"]),
  /** Bumped by every redraw, a new photo and each stage: a page's progress starts over with it. */
  generation: v.number(),
  status: v.string(),
  webUrl: v.nullable(v.string()),
  failureReason: v.nullable(v.string()),
  /** The drawn face's likeness to the child's photo (docs/likeness.md); pages without a face: null, false. */
  likeness: v.strictObject({
    distance: v.pipe(
      v.nullable(v.number()),
      v.description(
        "descriptor distance of the drawn face to the photo's, lower is more alike (0.6 and below passes); null: not measured or no face found",
      ),
    ),
    flagged: v.pipe(
      v.boolean(),
      v.description("still unlike the child after one redraw: the page may not look like the child, offer a redraw"),
    ),
  }),
  /** The words printed on the page, the child's name in them, in the book's language (null in lists). */
  text: v.nullable(v.string()),
});
/** A book's place while it waits for the gpu: the view's `queue` and the stream's `queue` events. */
export const QueuePlace = v.strictObject({
  position: v.pipe(v.number(), v.description("1 is next: position − 1 books are ahead")),
  pagesAhead: v.pipe(v.number(), v.description("face pages drawn before this book's first")),
  etaSeconds: v.pipe(
    v.nullable(v.number()),
    v.description("when its first page should start, from measured page times; null before any was measured"),
  ),
});
export type PageView = v.InferOutput<typeof Page>;
export const Personalization = v.strictObject({
  id: v.string(),
  status: v.picklist(personalizationStatuses),
  /** `language`: the book's (its pages' text), null where the view was made without the book's pages. */
  book: v.strictObject({ slug: v.string(), title: v.string(), language: v.nullable(v.string()) }),
  photoUploadId: v.string(),
  childName: v.nullable(v.string()),
  childAge: v.nullable(v.number()),
  childGender: v.nullable(Gender),
  /** The name's forms the book prints (`gen`, `voc`, `poss` …); empty before the child is named. */
  childNameForms: v.record(v.string(), v.string()),
  analysis: v.nullable(v.record(v.string(), v.unknown())),
  failureReason: v.nullable(v.string()),
  regenerationsLeft: v.number(),
  pages: v.array(Page),
  /** `fileName`: what the download is saved as. */
  files: v.array(v.strictObject({ name: PrintFileName, url: v.string(), fileName: v.string() })),
  queue: v.nullable(QueuePlace),
  thumbnailUrl: v.nullable(v.string()),
  /** The child's photo (short-lived): what a book shows before any page is drawn, or once its photo was refused. */
  photoUrl: v.nullable(v.string()),
  createdAt: v.string(),
  updatedAt: v.string(),
  /** The last event the view already shows: open the event stream after it (`?after=`). */
  lastEventId: v.nullable(v.string()),
});
export type PersonalizationView = v.InferOutput<typeof Personalization>;
export const PersonalizationList = v.strictObject({
  items: v.array(Personalization),
  nextCursor: v.nullable(v.string()),
});
export type PersonalizationList = v.InferOutput<typeof PersonalizationList>;
