import { describe, expect, it } from "vitest";
import type { Lang } from "./i18n.ts";
import { queueText } from "./queue.ts";

// [language, position, etaSeconds, what the parent reads]
const lines: [Lang, number, number | null, string][] = [
  ["en", 3, 170, "2 books ahead of yours, about 3 minutes"],
  ["en", 2, 65, "1 book ahead of yours, about 1 minute"],
  ["en", 1, 20, "Your book is next for the drawing, under a minute"],
  ["en", 3, null, "2 books ahead of yours"],
  ["uk", 3, 170, "2 книжки перед вашою, приблизно 3 хвилини"],
  ["uk", 2, 60, "1 книжка перед вашою, приблизно 1 хвилина"],
  ["uk", 6, 300, "5 книжок перед вашою, приблизно 5 хвилин"],
  ["uk", 22, 1260, "21 книжка перед вашою, приблизно 21 хвилина"],
  ["uk", 1, null, "Ваша книжка наступна"],
];

describe("the waiting line", () => {
  it.each(lines)("%s, position %i, ETA %s s: %s", (lang, position, etaSeconds, text) => {
    expect(queueText(lang, { position, pagesAhead: position * 2, etaSeconds })).toBe(text);
  });
});
