import type { MessageKey } from "../lib/i18n.ts";

type T = (key: MessageKey, vars?: Record<string, string | number>) => string;

/** "Front cover", "Page 3", … */
export function pageLabel(t: T, page: string): string {
  if (page === "cover_front") return t("preview.page.cover_front");
  if (page === "cover_back") return t("preview.page.cover_back");
  const n = /^page_(\d+)$/.exec(page);
  return n ? t("preview.page", { n: n[1]! }) : page;
}
