// The names print files are saved under: the book's title and the child's name, in any script.
// The store sends them as `Content-Disposition: attachment` (RFC 6266): `filename*` carries the
// UTF-8 name (RFC 5987), `filename` an ASCII fallback for clients that read only that.
import type { PrintFile } from "@faceapp/core";
import contentDisposition from "content-disposition";

const PARTS: Record<PrintFile, { suffix: string; ext: string }> = {
  "block.pdf": { suffix: "", ext: ".pdf" },
  "cover.pdf": { suffix: " — cover", ext: ".pdf" },
  "pages.zip": { suffix: " — pages", ext: ".zip" },
};

/** Characters no file system takes, controls included; runs of spaces collapse. */
const clean = (text: string) =>
  text
    .normalize("NFC")
    .replace(/[\p{Cc}\p{Cf}\\/:*?"<>|]+/gu, " ")
    .replace(/\s+/gu, " ")
    .trim();

/** Title and child's name joined; "storybook" when neither leaves anything. */
function named(title: string, child: string, file: PrintFile): string {
  const { suffix, ext } = PARTS[file];
  const base = [title.slice(0, 120), child.slice(0, 40)].filter(Boolean).join(" — ");
  return `${base || "storybook"}${suffix}${ext}`;
}

/** Accents dropped, other non-ASCII letters gone, dashes plain. */
const ascii = (text: string) =>
  text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^\x20-\x7e]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();

/**
 * "Adventures in the Land of Wonders — Ada.pdf", "Дивокрай — Олеся — cover.pdf", and its
 * `Content-Disposition: attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded name>`.
 */
export function downloadName(
  bookTitle: string,
  childName: string | null,
  file: PrintFile,
): { name: string; disposition: string } {
  const title = clean(bookTitle);
  const child = clean(childName ?? "");
  const name = named(title, child, file);
  const fallback = named(ascii(title), ascii(child), file).replace(/ — /g, " - ");
  return { name, disposition: contentDisposition(name, { type: "attachment", fallback }) };
}
