import { insertEvent, keys, type PageId, removeJobsOf, transition } from "@faceapp/core";
import { loadSubject } from "../pipeline/load.ts";
import { defineTask } from "../runtime/task.ts";
import type { RenderDeps } from "./deps.ts";

/** block.pdf, cover.pdf and pages.zip from the finished pages; then the personalisation is complete. */
export default defineTask<"assemble_print", RenderDeps>({
  name: "assemble_print",
  async run({ personalizationId }, { deps, signal, log }) {
    const { pg: db, bus } = deps;
    const subject = await loadSubject(db, personalizationId);
    if (subject?.personalization.status !== "full_generating") {
      log.info("print files no longer wanted");
      return;
    }
    const { personalization } = subject;
    // The preview's pages and the full stage's, all done.
    const pages = await db.db
      .selectFrom("app.personalization_pages")
      .select(["page", "stage", "generation", "status", "print_key", "web_key"])
      .where("personalization_id", "=", personalizationId)
      .execute();
    const printKeys = new Map<PageId, string>();
    const webKeys = new Map<PageId, string>();
    for (const p of pages) {
      if (p.status !== "done" || !p.print_key || !p.web_key) throw new Error(`${p.page} is not finished`);
      // The PDFs are built from the print JPEG that render_page stored.
      printKeys.set(p.page as PageId, p.print_key);
      webKeys.set(p.page as PageId, p.web_key);
    }
    const files = {
      "block.pdf": keys.printFile(personalizationId, "block.pdf"),
      "cover.pdf": keys.printFile(personalizationId, "cover.pdf"),
      "pages.zip": keys.printFile(personalizationId, "pages.zip"),
    };
    await deps.assembler.assemble({
      manifest: subject.book.manifest,
      childName: personalization.child_name ?? "",
      printKeys,
      webKeys,
      outputKeys: { block: files["block.pdf"], cover: files["cover.pdf"], zip: files["pages.zip"] },
      signal,
    });
    const events = await db.db.transaction().execute(async (tx) => {
      const status = await transition(tx, personalizationId, "print_finished");
      if (!status) return [];
      await tx.updateTable("app.personalizations").set({ files }).where("id", "=", personalizationId).execute();
      return [await insertEvent(tx, personalizationId, "files", { files: Object.keys(files) }), status];
    });
    await bus.publish(personalizationId, events);
  },
  async onFinalFailure({ personalizationId }, reason, { deps }) {
    const events = await deps.pg.db.transaction().execute(async (tx) => {
      const status = await transition(tx, personalizationId, "full_failed", {
        failureReason: `the print files could not be made: ${reason}`,
      });
      if (!status) return [];
      await removeJobsOf(tx, personalizationId);
      return [
        status,
        await insertEvent(tx, personalizationId, "error", { message: `the print files could not be made: ${reason}` }),
      ];
    });
    await deps.bus.publish(personalizationId, events);
  },
});
