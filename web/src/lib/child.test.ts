import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { ChildName } from "../../../api/src/personalization-schemas.ts";
import { declineName } from "../../../core/src/names.ts";
import { nameAfterFor, needsGender, normalizeName, parseAge, validName } from "./child.ts";
import { translate } from "./i18n.ts";

describe("the child form", () => {
  it("judges names as the api does", () => {
    const names = [
      "Ada",
      "  Ada   Lovelace ",
      "Олеся",
      "Anne-Marie",
      "D'Arcy",
      "Zoë",
      "",
      "   ",
      "R2D2",
      "<b>",
      "-",
      "a".repeat(40),
      "a".repeat(41),
    ];
    for (const name of names) expect(validName(name), JSON.stringify(name)).toBe(v.safeParse(ChildName, name).success);
  });

  it("sends the name the api would store", () => {
    expect(normalizeName("  Ada   Lovelace ")).toBe(v.parse(ChildName, "  Ada   Lovelace "));
  });

  it("takes an optional whole age from 0 to 18", () => {
    expect(parseAge("")).toBeUndefined();
    expect(parseAge("5")).toBe(5);
    expect(parseAge("0")).toBe(0);
    expect(parseAge("18")).toBe(18);
    expect(parseAge("19")).toBeNaN();
    expect(parseAge("4.5")).toBeNaN();
    expect(parseAge("-1")).toBeNaN();
  });

  it("asks the gender only when the analysis was unsure", () => {
    expect(needsGender(null)).toBe(true);
    expect(needsGender({ description: { gender: null } })).toBe(true);
    expect(needsGender({})).toBe(true);
    expect(needsGender({ description: { gender: "girl" } })).toBe(false);
  });

  it("titles a Ukrainian book for Соломія with the genitive the api stored, other languages as written", async () => {
    // The forms the api stores for a Ukrainian book (core's declension, as generate resolves them).
    const forms = await declineName("Соломія", "uk", "girl");
    expect(translate("uk", "myBooks.forChild", { name: nameAfterFor("uk", "Соломія", forms) })).toBe("для Соломії");
    expect(translate("en", "myBooks.forChild", { name: nameAfterFor("en", "Соломія", forms) })).toBe("for Соломія");
    // An English book has no genitive: the Ukrainian interface keeps the name as written.
    expect(nameAfterFor("uk", "Zoë", await declineName("Zoë", "en", null))).toBe("Zoë");
  });
});
