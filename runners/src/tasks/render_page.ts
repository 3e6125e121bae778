import { getObjectBytes, keys, type PageId, putObjectBytes } from "@faceapp/core";
import { artKeys, loadSubject } from "../pipeline/load.ts";
import { claimPage, completePage, failPage, publishProgress } from "../pipeline/pages.ts";
import { defineTask } from "../runtime/task.ts";
import type { RenderDeps } from "./deps.ts";

/** Typesets one page's text over its background and writes the print JPEG and the web image. */
export default defineTask<"render_page", RenderDeps>({
  name: "render_page",
  async run(key, { deps, signal, log }) {
    const { pg: db, s3, s3Config, bus } = deps;
    const page = key.page as PageId;
    // The claim and the read of the personalisation are independent: both at once (the read is
    // wasted only when the page is no longer wanted).
    const [pageRow, subject] = await Promise.all([
      claimPage(db, key, "rendering"),
      loadSubject(db, key.personalizationId),
    ]);
    if (!pageRow) {
      log.info("page no longer wanted");
      return;
    }
    // Not awaited: a publish never throws, and the "done" publish goes out on the same connection
    // after it, so the order holds while the page goes on.
    void publishProgress(bus, key, 0, "words");
    if (!subject) throw new Error("the personalisation is gone");
    const { personalization, book } = subject;
    const get = (k: string) => getObjectBytes(s3, s3Config.bucket, k);
    // Face pages have the engine's background; the others stay as drawn.
    const background = await get(pageRow.background_key ?? artKeys(subject, page).illustration);
    const { print, web } = await deps.renderer.render({
      manifest: book.manifest,
      page,
      background,
      variables: {
        child_name: personalization.child_name ?? "",
        child_name_forms: personalization.child_name_forms,
        child_age: personalization.child_age?.toString() ?? "",
      },
      readBookFile: (relative) => get(keys.bookFile(book.slug, relative)),
      signal,
    });
    signal.throwIfAborted();
    const printKey = keys.page(key.personalizationId, key.stage, key.generation, page, "print.jpg");
    const webKey = keys.page(key.personalizationId, key.stage, key.generation, page, "web.jpg");
    // The two objects are independent (deterministic keys, a retry overwrites them): written at once.
    await Promise.all([
      putObjectBytes(s3, s3Config.bucket, printKey, print, "image/jpeg"),
      putObjectBytes(s3, s3Config.bucket, webKey, web, "image/jpeg"),
    ]);
    await completePage(db, bus, key, { printKey, webKey });
  },
  async onFinalFailure(key, reason, { deps }) {
    await failPage(deps.pg, deps.bus, key, reason);
  },
});
