import { describe, expect, it } from "vitest";
import { detectLang, dictionaries, isMessageKey, translate } from "./i18n.ts";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("English and Ukrainian", () => {
  it("have the same keys and the same placeholders in every message", () => {
    expect(Object.keys(dictionaries.uk).sort()).toEqual(Object.keys(dictionaries.en).sort());
    for (const [key, text] of Object.entries(dictionaries.en)) {
      const uk = dictionaries.uk[key as keyof typeof dictionaries.uk];
      expect(uk.trim(), key).not.toBe("");
      expect(placeholders(uk), key).toEqual(placeholders(text));
    }
  });

  it("are chosen by the saved choice, else the browser's languages, else English", () => {
    expect(detectLang(null, ["uk-UA", "en"])).toBe("uk");
    expect(detectLang(null, ["de-DE", "en-US"])).toBe("en");
    expect(detectLang(null, ["de-DE", "UK"])).toBe("uk");
    expect(detectLang(null, ["fr"])).toBe("en");
    expect(detectLang(null, [])).toBe("en");
    expect(detectLang("en", ["uk-UA"])).toBe("en");
    expect(detectLang("xx", ["uk-UA"])).toBe("uk");
  });

  it("fills placeholders and keeps unknown ones visible", () => {
    expect(translate("en", "catalog.ages", { min: 3, max: 7 })).toBe("Ages 3–7");
    expect(translate("uk", "catalog.ages", { min: 3, max: 7 })).toBe("Вік 3–7");
    expect(translate("en", "preview.regenerate", {})).toBe("Draw it again ({n} left)");
  });

  it("has a word for every status the api has, and none for a status it does not have", async () => {
    const { personalizationStatuses } = await import("@faceapp/core");
    for (const status of personalizationStatuses) expect(isMessageKey(`status.${status}`), status).toBe(true);
    const worded = Object.keys(dictionaries.en).filter((key) => key.startsWith("status."));
    expect(worded.sort()).toEqual(personalizationStatuses.map((s) => `status.${s}`).sort());
  });
});
