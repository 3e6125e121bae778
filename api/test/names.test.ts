// The child's name as the book will print it: declined where the language needs it (Ukrainian cases by
// gender, the parent's corrections on top), and refused at generate, naming the character, when no
// font of the book can draw it.
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, body, jsonInit, signUp, useApi, book, createPersonalization, readyPhoto } from "@faceapp/testkit/api";

const api = useApi();
let token: string;
let photo: string;

beforeAll(async () => {
  await book(api, {
    slug: "uk-names",
    language: "uk",
    facePages: [],
    text: "Це книжка для {child_name.gen}. {child_name.voc}, лети з {child_name.ins}!",
  });
  await book(api, { slug: "en-names", facePages: [], text: "{child_name.poss} kite" });
  const user = await signUp(api.app);
  token = user.token;
  photo = await readyPhoto(api.app, token);
});

/** A personalisation of `slug` past its analysis, ready to be named. */
async function analyzed(slug: string): Promise<string> {
  const { id } = await body(await createPersonalization(api.app, token, slug, photo));
  await sql`update app.personalizations set status = 'analyzed', analysis = '{"ok":true}' where id = ${id}`.execute(
    api.pg.db,
  );
  return id;
}

const generate = (id: string, payload: object) =>
  api.app.request(`/v1/personalizations/${id}/generate`, jsonInit("POST", payload, bearer(token)));

const stored = (id: string) =>
  api.pg.db
    .selectFrom("app.personalizations")
    .select(["status", "child_gender", "child_name_forms", "child_name_overrides"])
    .where("id", "=", id)
    .executeTakeFirstOrThrow();

describe("naming the child of a Ukrainian book", () => {
  it("declines the name by the gender given and stores the forms", async () => {
    const id = await analyzed("uk-names");
    const res = await generate(id, { childName: "Соломія", childGender: "girl" });
    expect(res.status).toBe(202);
    const view = await body(res);
    expect(view.childNameForms).toEqual({
      gen: "Соломії",
      dat: "Соломії",
      acc: "Соломію",
      ins: "Соломією",
      loc: "Соломії",
      voc: "Соломіє",
    });
    expect(await stored(id)).toMatchObject({ child_gender: "girl", child_name_overrides: {} });
  });

  it("takes the library's guess of the gender when the parent gives none, and stores it", async () => {
    const id = await analyzed("uk-names");
    const view = await body(await generate(id, { childName: "Андрій" }));
    expect(view.childNameForms).toMatchObject({ gen: "Андрія", voc: "Андрію" });
    expect((await stored(id)).child_gender).toBe("boy");
  });

  it("keeps the parent's corrections over the library's forms", async () => {
    const id = await analyzed("uk-names");
    const res = await generate(id, { childName: "Соломія", childGender: "girl", childNameForms: { voc: "Соломійко" } });
    expect(res.status).toBe(202);
    expect(await stored(id)).toMatchObject({
      child_name_forms: { gen: "Соломії", voc: "Соломійко" },
      child_name_overrides: { voc: "Соломійко" },
    });
  });

  it("asks for the gender when the library cannot tell it, and refuses forms the language lacks", async () => {
    const id = await analyzed("uk-names");
    const unsure = await generate(id, { childName: "Ксьюзиграф" });
    expect(unsure.status).toBe(400);
    expect((await body(unsure)).error.details).toEqual({ field: "childGender" });
    const foreign = await generate(id, { childName: "Соломія", childGender: "girl", childNameForms: { poss: "x" } });
    expect(foreign.status).toBe(400);
    expect((await stored(id)).status).toBe("analyzed");
  });
});

describe("naming the child of a book in another language", () => {
  it("gives English the possessive and nothing else", async () => {
    const id = await analyzed("en-names");
    const view = await body(await generate(id, { childName: "Zoë" }));
    expect(view.childNameForms).toEqual({ poss: "Zoë’s" });
    expect((await stored(id)).child_gender).toBeNull();
  });
});

describe("a name the book cannot print", () => {
  it("is refused at generate naming the character, before any page work", async () => {
    const id = await analyzed("en-names");
    // Ethiopic letters: a real name ("Abebe"), in a script no installed font draws.
    const res = await generate(id, { childName: "አበበ" });
    expect(res.status).toBe(400);
    const error = (await body(res)).error;
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain('"አ" (U+12A0)');
    expect(error.details.characters).toEqual([
      { character: "አ", codePoint: "U+12A0" },
      { character: "በ", codePoint: "U+1260" },
    ]);
    expect((await stored(id)).status).toBe("analyzed");
    const pages = await api.pg.db
      .selectFrom("app.personalization_pages")
      .select("page")
      .where("personalization_id", "=", id)
      .execute();
    expect(pages).toEqual([]);
  });

  it("is refused when it holds a private-use or unassigned code point, which is no letter", async () => {
    // Refused by the name's schema (letters only), which never echoes what was sent: it names the field.
    const id = await analyzed("en-names");
    for (const childName of ["Ada\u{E000}", "Ada\u{0378}"]) {
      const res = await generate(id, { childName });
      expect(res.status).toBe(400);
      expect((await body(res)).error.details.issues).toEqual([{ path: "childName", problem: expect.any(String) }]);
    }
  });

  it("is flagged by the forms preview before the parent commits to it", async () => {
    const res = await api.app.request(`/v1/books/en-names/name-forms?name=${encodeURIComponent("አበበ")}`);
    expect(res.status).toBe(200);
    expect((await body(res)).undrawable).toEqual([
      { character: "አ", codePoint: "U+12A0" },
      { character: "በ", codePoint: "U+1260" },
    ]);
  });
});

describe("the forms preview", () => {
  it("shows the forms a Ukrainian book uses, made for the guessed gender until the parent says", async () => {
    const guessed = await body(
      await api.app.request(`/v1/books/uk-names/name-forms?name=${encodeURIComponent("Соломія")}`),
    );
    expect(guessed).toEqual({
      language: "uk",
      needsGender: true,
      gender: "girl",
      guessed: true,
      // gen for the book and the app's own "для …"; voc and ins for the book's text.
      forms: { gen: "Соломії", ins: "Соломією", voc: "Соломіє" },
      undrawable: [],
    });
    const told = await body(
      await api.app.request(`/v1/books/uk-names/name-forms?name=${encodeURIComponent("Саша")}&gender=boy`),
    );
    expect(told).toMatchObject({ gender: "boy", guessed: false, forms: { gen: "Саші", voc: "Сашо" } });
  });

  it("needs no gender for English and shows the possessive", async () => {
    const res = await body(await api.app.request("/v1/books/en-names/name-forms?name=Zo%C3%AB"));
    expect(res).toMatchObject({ language: "en", needsGender: false, gender: null, forms: { poss: "Zoë’s" } });
  });
});
