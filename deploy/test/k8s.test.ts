// The Kubernetes manifests: well-formed, wired to each other, and the KEDA queries really count the
// pending jobs of each runner kind in graphile-worker's queue (run against a migrated database).
import fs from "node:fs";
import path from "node:path";
import { queueNamesOf, repoRoot, tasksOf } from "@faceapp/core";
import { takeNewestJobAs, useTestDatabase } from "@faceapp/testkit";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below
  spec?: any;
}

const dir = path.join(repoRoot, "compose/k8s");
const manifests: Manifest[] = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((f) =>
    parseAllDocuments(fs.readFileSync(path.join(dir, f), "utf8")).map((doc) => {
      expect(doc.errors, f).toEqual([]);
      return doc.toJS() as Manifest;
    }),
  );
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const named = (kind: string, name: string) => byKind(kind).find((m) => m.metadata.name === name);

describe("compose/k8s", () => {
  it("holds the api, both runners, web, the migrate job and the KEDA scalers, all in one namespace", () => {
    for (const m of manifests) {
      expect(m.apiVersion, m.metadata.name).toBeTruthy();
      if (m.kind !== "Namespace") expect(m.metadata.namespace, m.metadata.name).toBe("faceapp");
    }
    expect(
      byKind("Deployment")
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(["faceapp-api", "faceapp-gpu-runner", "faceapp-render-runner", "faceapp-web"].sort());
    expect(named("Job", "faceapp-migrate")?.spec.template.spec.containers[0].command).toEqual([
      "node",
      "--import",
      "tsx",
      "sql/src/cli.ts",
    ]);
    // nginx's upstream is `api:8000`.
    expect(named("Service", "api")?.spec.ports[0].port).toBe(8000);
  });

  it("gives one GPU to each gpu-runner pod, shared with its own ComfyUI", () => {
    const pod = named("Deployment", "faceapp-gpu-runner")!.spec.template.spec;
    const containers = Object.fromEntries(pod.containers.map((c: { name: string }) => [c.name, c]));
    expect(containers.comfyui.resources.limits["nvidia.com/gpu"]).toBe(1);
    const env = Object.fromEntries(
      containers["gpu-runner"].env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    expect(env).toMatchObject({ RUNNER_CONCURRENCY: "1", COMFY_BASE_URL: "http://127.0.0.1:8188" });
    const render = named("Deployment", "faceapp-render-runner")!.spec.template.spec;
    expect(JSON.stringify(render)).not.toContain("nvidia.com/gpu");
  });

  it("scales each runner Deployment with a KEDA ScaledObject on a Postgres query", () => {
    const scaled = byKind("ScaledObject");
    expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual([
      "faceapp-gpu-runner",
      "faceapp-render-runner",
    ]);
    for (const s of scaled) {
      expect(named("Deployment", s.spec.scaleTargetRef.name), s.metadata.name).toBeDefined();
      const [trigger] = s.spec.triggers;
      expect(trigger.type).toBe("postgresql");
      expect(named("TriggerAuthentication", trigger.authenticationRef.name)).toBeDefined();
    }
  });

  it("counts, for each runner kind, the queue names of its tasks' payload versions (the catalog's)", () => {
    for (const kind of ["gpu", "render"] as const) {
      const scaled = byKind("ScaledObject").find((s) => s.spec.scaleTargetRef.name === `faceapp-${kind}-runner`)!;
      const listed = /task_identifier in \(([^)]*)\)/.exec(scaled.spec.triggers[0].metadata.query)?.[1] ?? "";
      const names = listed.split(",").map((n) => n.trim().replace(/^'|'$/g, ""));
      expect(names.sort(), kind).toEqual(
        tasksOf(kind)
          .flatMap((task) => queueNamesOf(task))
          .sort(),
      );
    }
  });

  describe("the scalers' queries, on a migrated database", () => {
    const pg = useTestDatabase();
    const query = (target: string) =>
      byKind("ScaledObject").find((s) => s.spec.scaleTargetRef.name === target)!.spec.triggers[0].metadata
        .query as string;
    const count = async (target: string) => {
      const { rows } = await sql<{ count: string }>`${sql.raw(query(target))}`.execute(pg.db);
      return Number(rows[0]!.count);
    };

    it("count the jobs waiting for each runner kind: due, unlocked, with attempts left", async () => {
      expect(await count("faceapp-render-runner")).toBe(0);
      const add = (task: string, extra = "") =>
        sql.raw(`select graphile_worker.add_job('${task}', '{}'::json${extra})`).execute(pg.db);
      for (let i = 0; i < 3; i++) await add("render_page");
      await add("assemble_print");
      await add("analyze_photo");
      await add("personalize_page");
      await add("personalize_page");
      // Not waiting: scheduled for later, and one taken by a worker.
      await add("render_page", ", run_at := now() + interval '1 hour'");
      await add("personalize_page");
      await takeNewestJobAs(pg, "w", 0);

      expect(await count("faceapp-render-runner")).toBe(4);
      expect(await count("faceapp-gpu-runner")).toBe(3);
    });
  });
});
