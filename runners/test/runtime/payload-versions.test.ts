import { sql } from "kysely";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { addJob, type JobCatalog, jobKey, jobs, previousVersion, queueNamesOf } from "@faceapp/core";
import { clearQueue, useTestBucket, useTestDatabase } from "@faceapp/testkit";
import { defineTask } from "../../src/runtime/task.ts";
import { renderRunner, waitFor } from "./rig.ts";

// A payload change across a deploy (docs/queue.md): the catalog below is the real one after a change
// of assemble_print's payload, `personalization` renamed `personalizationId` (version 2), with the
// previous version kept for one release. Jobs queued by the release before still run on the real
// runner runtime, upgraded; a runner of the release before takes no job of the new version.
const t = useTestDatabase();
const bucket = useTestBucket();

const current = jobs.assemble_print.payload;
const changed: JobCatalog = {
  ...jobs,
  assemble_print: {
    ...jobs.assemble_print,
    version: 2,
    previous: previousVersion(current, v.strictObject({ personalization: v.pipe(v.string(), v.uuid()) }), (old) => ({
      personalizationId: old.personalization,
    })),
  },
};

/** A render runner of the release `catalog` belongs to, whose assemble_print records what it ran. */
async function runner(catalog: JobCatalog, ran: string[]) {
  const task = defineTask({
    name: "assemble_print",
    async run(payload) {
      ran.push(payload.personalizationId);
    },
  });
  return renderRunner(t, bucket, { tasks: [task], catalog, pollIntervalMs: 100 });
}

const jobsLeft = async () =>
  (
    await sql<{ task_identifier: string; attempts: number; last_error: string | null }>`
      select task_identifier, attempts, last_error from graphile_worker.jobs order by id`.execute(t.db)
  ).rows;

describe("a payload change across a deploy", () => {
  it("names the queues of each version: the current one, and the previous one while it is kept", () => {
    expect(queueNamesOf("assemble_print", changed)).toEqual(["assemble_print@2", "assemble_print"]);
    expect(queueNamesOf("assemble_print")).toEqual(["assemble_print"]);
  });

  it("runs a job queued with the previous payload shape, upgraded, beside one of the new shape", async () => {
    const before = crypto.randomUUID();
    const after = crypto.randomUUID();
    // As the release before queued it: its queue name and shape, its key.
    await sql`select graphile_worker.add_job('assemble_print', ${{ personalization: before }}::json,
      max_attempts => 3, job_key => ${jobKey("assemble_print", { personalizationId: before })})`.execute(t.db);
    await sql`select graphile_worker.add_job('assemble_print@2', ${{ personalizationId: after }}::json, max_attempts => 3)`.execute(
      t.db,
    );
    const ran: string[] = [];
    const r = await runner(changed, ran);
    try {
      await waitFor(async () => ran.length === 2 && (await jobsLeft()).length === 0);
      expect(ran.sort()).toEqual([before, after].sort());
    } finally {
      await r.stop();
    }
  });

  it("fails a job of the previous version whose payload fits neither shape for good, naming its queue", async () => {
    await sql`select graphile_worker.add_job('assemble_print', ${{ personalizationId: "nope" }}::json, max_attempts => 3,
      job_key => 'assemble_print:nope')`.execute(t.db);
    const ran: string[] = [];
    const r = await runner(changed, ran);
    try {
      const [failed] = await waitFor(async () => {
        const left = await jobsLeft();
        return left[0]?.last_error ? left : null;
      });
      expect(failed).toMatchObject({ task_identifier: "assemble_print", attempts: 3 });
      expect(failed?.last_error).toMatch(/^assemble_print payload is invalid: personalization: /);
      expect(ran).toEqual([]);
    } finally {
      await r.stop();
      await clearQueue(t);
    }
  });

  it("leaves the new version's jobs to the new runners: a runner of the release before does not take them", async () => {
    const newer = crypto.randomUUID();
    const older = crypto.randomUUID();
    await sql`select graphile_worker.add_job('assemble_print@2', ${{ personalizationId: newer }}::json, max_attempts => 3)`.execute(
      t.db,
    );
    await addJob(t.db, "assemble_print", { personalizationId: older });
    const ran: string[] = [];
    const r = await runner(jobs, ran);
    try {
      // The older job, queued after the newer one, has run: the newer one was passed over, untouched.
      await waitFor(async () => ran.includes(older) && (await jobsLeft()).length === 1);
      expect(ran).toEqual([older]);
      expect(await jobsLeft()).toEqual([{ task_identifier: "assemble_print@2", attempts: 0, last_error: null }]);
    } finally {
      await r.stop();
      await clearQueue(t);
    }
  });
});
