import { sql } from "kysely";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { addJob, createPostgresBus, createS3Client } from "@faceapp/core";
import { useTestBucket, useTestDatabase } from "@faceapp/testkit";
import { type RunnerOptions, startRunner } from "../../src/runtime/runner.ts";
import { defineTask } from "../../src/runtime/task.ts";
import { beat, RUNNER_LOST, sweep } from "../../src/runtime/heartbeat.ts";
import { gpuTasks, renderTasks } from "../../src/tasks/index.ts";
import type { RenderDeps } from "../../src/tasks/deps.ts";
import { noWebhooks } from "../../src/webhooks/deliver.ts";

const t = useTestDatabase();
const bucket = useTestBucket();
const logger = pino({ level: "silent" });

function deps(): RenderDeps {
  const unused = async () => {
    throw new Error("not used by this test");
  };
  return {
    db: t,
    s3: createS3Client(bucket),
    s3Config: bucket,
    bus: createPostgresBus(t.sql),
    logger,
    renderer: { render: unused, close: async () => {} },
    assembler: { assemble: unused },
    webhooks: noWebhooks,
  };
}

const options = {
  concurrency: 1,
  heartbeatSeconds: 1,
  staleAfterSeconds: 60,
  drainSeconds: 5,
  healthPort: 0,
  pollIntervalMs: 200,
};

/** A render runner on this file's database and bucket, `over` replacing the options above. */
function renderRunner(over: Partial<RunnerOptions<RenderDeps>> = {}) {
  return startRunner({
    ...options,
    kind: "render",
    databaseUrl: t.url,
    tasks: renderTasks,
    ...over,
    deps: over.deps ?? deps(),
  });
}

async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a runner", () => {
  it("refuses to register another kind's tasks", async () => {
    await expect(renderRunner({ tasks: [...renderTasks, ...gpuTasks] as never })).rejects.toThrow(
      /render runner cannot run analyze_photo, personalize_page/,
    );
  });

  it("fails a job whose payload breaks its schema once, with the reason, instead of retrying it", async () => {
    await sql`select graphile_worker.add_job('render_page', ${{ personalizationId: "nope", stage: "draft" }}::json, max_attempts => 4)`.execute(
      t.db,
    );
    const runner = await renderRunner();
    try {
      const job = await waitFor(async () => {
        const { rows } = await sql<{
          attempts: number;
          max_attempts: number;
          last_error: string | null;
          locked_by: string | null;
        }>`
          select attempts, max_attempts, last_error, locked_by from graphile_worker.jobs where task_identifier = 'render_page'`.execute(
          t.db,
        );
        return rows[0]?.last_error ? rows[0] : null;
      });
      expect(job.attempts).toBe(1);
      expect(job.max_attempts).toBe(1);
      expect(job.last_error).toMatch(/render_page payload is invalid: personalizationId: .*; stage: /);
    } finally {
      await runner.stop();
    }
  });

  it("ends a job at once, recording why, when its error says retrying cannot help", async () => {
    const finalReasons: string[] = [];
    const rejecting = defineTask({
      name: "assemble_print",
      async run() {
        throw Object.assign(new Error("ComfyUI rejected the workflow: checkpoint missing"), {
          name: "FaceEngineError",
          retryable: false,
        });
      },
      async onFinalFailure(_payload, reason) {
        finalReasons.push(reason);
      },
    });
    const personalizationId = crypto.randomUUID();
    await addJob(t.db, "assemble_print", { personalizationId });
    const runner = await renderRunner({ tasks: [rejecting] });
    try {
      const job = await waitFor(async () => {
        const { rows } = await sql<{ attempts: number; max_attempts: number; last_error: string | null }>`
          select attempts, max_attempts, last_error from graphile_worker.jobs where key = ${`assemble_print:${personalizationId}`}`.execute(
          t.db,
        );
        return rows[0]?.last_error ? rows[0] : null;
      });
      expect(job).toMatchObject({ attempts: 1, max_attempts: 1 });
      expect(finalReasons).toEqual(["ComfyUI rejected the workflow: checkpoint missing"]);
    } finally {
      await runner.stop();
    }
  });

  it("beats for its workers while running and forgets them when stopped", async () => {
    const runner = await renderRunner();
    const ids = await waitFor(async () => (runner.workerIds().length ? runner.workerIds() : null));
    const rows = await waitFor(async () => {
      const found = await t.db.selectFrom("app.runner_heartbeats").selectAll().where("worker_id", "in", ids).execute();
      return found.length === ids.length ? found : null;
    });
    expect(rows.every((r) => r.kind === "render" && r.pid === process.pid)).toBe(true);
    const health = await fetch(`http://127.0.0.1:${runner.healthPort}/readyz`);
    expect(health.status).toBe(200);
    await runner.stop();
    expect(await t.db.selectFrom("app.runner_heartbeats").selectAll().where("worker_id", "in", ids).execute()).toEqual(
      [],
    );
  });

  it("is not ready while its bucket does not answer, and says so", async () => {
    const runner = await renderRunner({ deps: { ...deps(), s3Config: { ...bucket, bucket: "no-such-bucket" } } });
    try {
      const res = await fetch(`http://127.0.0.1:${runner.healthPort}/readyz`);
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.checks.database).toEqual({ ok: true });
      expect(body.checks.storage.ok).toBe(false);
    } finally {
      await runner.stop();
    }
  });

  it("starts job processing again when its pool fails, even when the failed pool never finishes stopping", async () => {
    // A pool stops itself when it cannot record a job's outcome. Here a trigger refuses one job's
    // first failure; another job is in a task that ignores its abort, so the stopping pool never ends.
    await sql`create sequence refusals`.execute(t.db);
    await sql`create function refuse_once() returns trigger language plpgsql as $$
      begin if nextval('refusals') = 1 then raise exception 'outcome refused'; end if; return new; end $$`.execute(
      t.db,
    );
    await sql`create trigger refuse_once before update on graphile_worker._private_jobs for each row
      when (new.last_error like 'poisoned%') execute function refuse_once()`.execute(t.db);
    let hung = false;
    const ran: string[] = [];
    const task = defineTask({
      name: "assemble_print",
      async run({ personalizationId }) {
        ran.push(personalizationId);
        if (personalizationId === stuck && !hung) {
          hung = true;
          return new Promise<void>(() => {});
        }
        if (personalizationId === poisoned) {
          await waitFor(async () => hung);
          throw new Error("poisoned payload");
        }
      },
    });
    const stuck = crypto.randomUUID();
    const poisoned = crypto.randomUUID();
    await addJob(t.db, "assemble_print", { personalizationId: stuck });
    await addJob(t.db, "assemble_print", { personalizationId: poisoned });
    const runner = await renderRunner({ concurrency: 2, drainSeconds: 1, tasks: [task] });
    try {
      const first = await waitFor(async () => (runner.workerIds().length ? runner.workerIds() : null));
      // Given up after the drain bound, a new pool takes over.
      await waitFor(async () => runner.workerIds().length > 0 && !runner.workerIds().some((id) => first.includes(id)));
      const later = crypto.randomUUID();
      await addJob(t.db, "assemble_print", { personalizationId: later });
      await waitFor(async () => ran.includes(later) && ran.filter((id) => id === stuck).length === 2);
      const rows = await waitFor(async () => {
        const { rows } = await sql<{ key: string; last_error: string | null }>`
          select key, last_error from graphile_worker.jobs
          where key in (${`assemble_print:${stuck}`}, ${`assemble_print:${poisoned}`}, ${`assemble_print:${later}`})`.execute(
          t.db,
        );
        return rows.some((r) => r.last_error) && rows;
      });
      // The stuck job ran again and is gone; the poisoned one's second failure is recorded.
      expect(rows).toEqual([{ key: `assemble_print:${poisoned}`, last_error: "poisoned payload" }]);
    } finally {
      await sql`drop trigger refuse_once on graphile_worker._private_jobs`.execute(t.db);
      await runner.stop();
    }
  }, 60_000);
});

describe("the sweeper", () => {
  const lockJob = async (workerId: string, secondsAgo: number) => {
    const { rows } = await sql<{ id: string }>`
      update graphile_worker._private_jobs set locked_by = ${workerId}, locked_at = now() - make_interval(secs => ${secondsAgo})
      where id = (select max(id) from graphile_worker._private_jobs) returning id`.execute(t.db);
    return rows[0]?.id;
  };
  const lockedBy = async (id: string | undefined) => {
    const { rows } = await sql<{
      locked_by: string | null;
    }>`select locked_by from graphile_worker.jobs where id = ${id}`.execute(t.db);
    return rows[0]?.locked_by;
  };
  const job = async () => addJob(t.db, "assemble_print", { personalizationId: crypto.randomUUID() });

  afterAll(async () => {
    await sql`delete from graphile_worker._private_jobs`.execute(t.db);
  });

  it("unlocks the jobs of a worker whose heartbeat went silent, and only those", async () => {
    await beat(t, "render", ["w-dead", "w-alive"]);
    await sql`update app.runner_heartbeats set last_seen_at = now() - interval '2 minutes' where worker_id = 'w-dead'`.execute(
      t.db,
    );
    await job();
    const dead = await lockJob("w-dead", 120);
    await job();
    const alive = await lockJob("w-alive", 120);

    expect(await sweep(t, 60)).toEqual(["w-dead"]);
    expect(await lockedBy(dead)).toBeNull();
    expect(await lockedBy(alive)).toBe("w-alive");
    expect(
      await t.db.selectFrom("app.runner_heartbeats").select("worker_id").where("worker_id", "=", "w-dead").execute(),
    ).toEqual([]);
  });

  it("unlocks a job whose worker died before its first heartbeat, once the lock is as old as the bound", async () => {
    await job();
    const ghost = await lockJob("w-ghost", 90);
    await job();
    const fresh = await lockJob("w-new", 1);
    const unlocked = await sweep(t, 60);
    expect(unlocked).toContain("w-ghost");
    expect(unlocked).not.toContain("w-new");
    expect(await lockedBy(ghost)).toBeNull();
    expect(await lockedBy(fresh)).toBe("w-new");
  });

  it("hands back the attempt a dead worker was on, unless its previous attempt ended the same way", async () => {
    await job();
    const killed = await lockJob("w-killed", 120);
    await sql`update graphile_worker._private_jobs set attempts = max_attempts where id = ${killed}`.execute(t.db);
    expect(await sweep(t, 60)).toContain("w-killed");
    const read = async () =>
      (
        await sql<{ attempts: number; max_attempts: number; last_error: string | null }>`
          select attempts, max_attempts, last_error from graphile_worker.jobs where id = ${killed}`.execute(t.db)
      ).rows[0]!;
    const once = await read();
    expect(once.attempts).toBe(once.max_attempts - 1);
    expect(once.last_error).toBe(RUNNER_LOST);
    expect(await lockedBy(killed)).toBeNull();
    // Its retry's runner dies too: this attempt counts.
    await sql`update graphile_worker._private_jobs set attempts = attempts + 1 where id = ${killed}`.execute(t.db);
    await lockJob("w-killed-again", 120);
    expect(await sweep(t, 60)).toContain("w-killed-again");
    expect((await read()).attempts).toBe(once.max_attempts);
  });

  it("fails a job whose runners keep dying for good, with onFinalFailure, instead of trying it a last time", async () => {
    const personalizationId = crypto.randomUUID();
    await addJob(t.db, "assemble_print", { personalizationId });
    const { rows } = await sql<{ id: string; max_attempts: number }>`
      select id, max_attempts from graphile_worker.jobs where key = ${`assemble_print:${personalizationId}`}`.execute(
      t.db,
    );
    const { id, max_attempts } = rows[0]!;
    // Each attempt taken by a runner that dies while running it (as getJob and the sweeper leave it):
    // the first is handed back, the others count, up to the last.
    for (let death = 1; death <= max_attempts; death++) {
      await sql`update graphile_worker._private_jobs set attempts = attempts + 1 where id = ${id}`.execute(t.db);
      await lockJob(`w-dies-${death}`, 120);
      expect(await sweep(t, 60)).toContain(`w-dies-${death}`);
    }
    const ran: string[] = [];
    const reasons: string[] = [];
    const task = defineTask({
      name: "assemble_print",
      async run(payload) {
        ran.push(payload.personalizationId);
      },
      async onFinalFailure(_payload, reason) {
        reasons.push(reason);
      },
    });
    const runner = await renderRunner({ tasks: [task] });
    try {
      const failed = await waitFor(async () => {
        const { rows } = await sql<{ attempts: number; last_error: string | null; locked_by: string | null }>`
          select attempts, last_error, locked_by from graphile_worker.jobs where id = ${id}`.execute(t.db);
        return rows[0]?.attempts === max_attempts && rows[0].locked_by === null && rows[0];
      });
      expect(failed.last_error).toMatch(/^its runner stopped responding while running it, again and again/);
      expect(reasons).toEqual(["an internal error stopped this step"]);
      expect(ran).not.toContain(personalizationId);
    } finally {
      await runner.stop();
    }
  });
});
