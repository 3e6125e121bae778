// The compose files against the configuration the apps really parse: every variable a service sets is
// one its app knows, every service's environment passes its app's schema as a production start would,
// and .env.example documents every variable of every app and of the compose files.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "@faceapp/core";
import { ApiEnv } from "../../api/src/config.ts";
import { RunnerEnv } from "../../runners/src/env.ts";
import { StartEnv } from "../../scripts/env.ts";
import { MigrateEnv } from "../../sql/src/config.ts";
import { composeFiles, environmentOf, loadCompose, read, secrets, variablesOf } from "./compose-helpers.ts";

type Schema = v.GenericSchema<Record<string, string | undefined>, unknown>;
type Entries = Record<string, unknown>;

/** The object schema's fields, looking through v.pipe(v.object(...), ...). */
function entriesOf(schema: unknown): Entries {
  const s = schema as { entries?: Entries; pipe?: unknown[] };
  if (s.entries) return s.entries;
  for (const item of s.pipe ?? []) {
    const found = (item as { entries?: Entries }).entries;
    if (found) return found;
  }
  throw new Error("not an object schema");
}

interface K8sContainer {
  name: string;
  command?: string[];
  env?: { name: string; value: string }[];
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
}
interface K8sDoc {
  kind: string;
  data?: Record<string, string>;
  spec?: { template: { spec: { containers: K8sContainer[] } } };
}

/** Which app a service runs, by the entry point in its command. */
const apps: { entry: string; name: string; schema: Schema }[] = [
  { entry: "api/src/server.ts", name: "api", schema: ApiEnv as unknown as Schema },
  { entry: "runners/src/gpu-runner.ts", name: "gpu runner", schema: RunnerEnv as unknown as Schema },
  { entry: "runners/src/render-runner.ts", name: "render runner", schema: RunnerEnv as unknown as Schema },
  { entry: "sql/src/cli.ts", name: "migrate", schema: MigrateEnv as unknown as Schema },
];

/** Set by the image (compose/node.Dockerfile ENV) rather than by compose. */
const imageEnv = {
  NODE_ENV: "production",
  CHROMIUM_PATH: "/usr/lib/chromium/chromium-headless-shell",
  DATA_DIR: "/tmp/faceapp",
};

const appServices = composeFiles.flatMap((file) =>
  Object.entries(loadCompose(file).services).flatMap(([name, service]) => {
    const app = apps.find((a) => service.command?.includes(a.entry));
    return app ? [{ file, name, service, app }] : [];
  }),
);

describe("every app service of the compose files", () => {
  it("is recognised: the api, both runners and the migrate job", () => {
    const names = appServices.map((s) => `${s.file}:${s.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        "docker-compose.yml:api",
        "docker-compose.yml:gpu-runner",
        "docker-compose.yml:render-runner",
        "docker-compose.yml:migrate",
        "compose/compose.dev.yml:gpu-runner-cpu",
      ]),
    );
  });

  it.each(appServices.map((s) => [`${s.file}: ${s.name}`, s] as const))(
    "%s sets only variables its app parses",
    (_, { service, app }) => {
      const known = Object.keys(entriesOf(app.schema));
      const unknown = Object.keys(environmentOf(service)).filter((name) => !known.includes(name));
      expect(unknown, `${app.name} does not parse these`).toEqual([]);
    },
  );

  it.each(appServices.map((s) => [`${s.file}: ${s.name}`, s] as const))(
    "%s passes its app's schema as a production start would",
    (_, { service, app }) => {
      const environment = { ...imageEnv, ...environmentOf(service) };
      // Empty values count as unset, as the apps' parseEnv treats them.
      const cleaned = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ""));
      const result = v.safeParse(app.schema, cleaned, { abortEarly: false });
      const problems = result.success ? [] : result.issues.map((i) => `${v.getDotPath(i)}: ${i.message}`);
      expect(problems).toEqual([]);
      // Production stores, never the embedded ones.
      expect(cleaned.DATABASE_URL).toMatch(/^postgres:\/\/faceapp:.+@db:5432\/faceapp$/);
      expect(cleaned.AWS_ENDPOINT_URL).toBe("http://minio:9000");
      expect(cleaned.AWS_SECRET_ACCESS_KEY).toBe(secrets.AWS_SECRET_ACCESS_KEY);
    },
  );

  it("gives the api and the runners the same stores (database, bucket, Redis)", () => {
    const base = appServices.filter((s) => s.file === "docker-compose.yml");
    for (const name of ["DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL", "S3_BUCKET_NAME", "AWS_ACCESS_KEY_ID"]) {
      const values = new Set(base.map((s) => environmentOf(s.service)[name]));
      expect(values.size, name).toBe(1);
    }
  });
});

describe("a production start of each app", () => {
  const production = appServices.filter((s) => s.file === "docker-compose.yml");
  const issuesOf = (schema: Schema, environment: Record<string, string>) => {
    // Empty values count as unset, as the apps' parseEnv treats them.
    const cleaned = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ""));
    const result = v.safeParse(schema, cleaned, { abortEarly: false });
    return result.success ? [] : result.issues.map((i) => `${v.getDotPath(i)}: ${i.message}`);
  };

  it.each(production.map((s) => [s.name, s] as const))(
    "%s: refused without the stores it needs, each named, never falling back to an embedded one",
    (_, { service, app }) => {
      const environment: Record<string, string> = { ...imageEnv, ...environmentOf(service) };
      const needs = app.name === "migrate" ? ["DATABASE_URL"] : ["DATABASE_URL", "AWS_ENDPOINT_URL"];
      for (const name of needs) {
        const { [name]: _, ...without } = environment;
        expect(issuesOf(app.schema, without)).toEqual([
          expect.stringMatching(new RegExp(`^${name}: must be set in production`)),
        ]);
        // Development keeps its embedded default.
        expect(issuesOf(app.schema, { ...without, NODE_ENV: "development" })).toEqual([]);
      }
    },
  );

  it("the api refuses a JWT_SECRET_KEY without real entropy, and takes a random one", () => {
    const api = production.find((s) => s.app.name === "api")!;
    const environment = { ...imageEnv, ...environmentOf(api.service) };
    for (const weak of [
      " ".repeat(32),
      "a".repeat(64),
      "ab".repeat(16),
      "password".repeat(4),
      "Tr0ub4dor&3".repeat(3),
    ]) {
      expect(issuesOf(api.app.schema, { ...environment, JWT_SECRET_KEY: weak }), JSON.stringify(weak)).toEqual([
        expect.stringMatching(/^JWT_SECRET_KEY: is too predictable for production/),
      ]);
      // The floor is production's: development and tests take what they are given.
      expect(issuesOf(api.app.schema, { ...environment, NODE_ENV: "test", JWT_SECRET_KEY: weak })).toEqual([]);
    }
    for (let i = 0; i < 50; i++) {
      const random = randomBytes(32).toString("hex"); // openssl rand -hex 32
      expect(issuesOf(api.app.schema, { ...environment, JWT_SECRET_KEY: random })).toEqual([]);
    }
  });
});

describe(".env.example", () => {
  const text = read(".env.example");
  const documented = new Set([...text.matchAll(/^#?\s?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));

  it("documents every variable the apps (and npm start) parse", () => {
    const parsed = new Set([...apps, { schema: StartEnv }].flatMap((a) => Object.keys(entriesOf(a.schema))));
    expect([...parsed].filter((name) => !documented.has(name))).toEqual([]);
  });

  it("documents every variable the compose files read", () => {
    const used = new Set(composeFiles.flatMap((f) => [...variablesOf(read(f))]));
    expect([...used].filter((name) => !documented.has(name))).toEqual([]);
  });

  it("documents nothing stale: each variable is one an app or a compose file reads", () => {
    const known = new Set([
      ...[...apps, { schema: StartEnv }].flatMap((a) => Object.keys(entriesOf(a.schema))),
      ...composeFiles.flatMap((f) => [...variablesOf(read(f))]),
    ]);
    expect([...documented].filter((name) => !known.has(name))).toEqual([]);
  });

  it("holds no secret value: the secrets are left empty", () => {
    for (const name of Object.keys(secrets)) expect(text).toMatch(new RegExp(`^${name}=$`, "m"));
  });
});

describe("compose/k8s", () => {
  const docs = fs
    .readdirSync(path.join(repoRoot, "compose/k8s"))
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => parseAllDocuments(read(`compose/k8s/${f}`)).map((d) => d.toJS()))
    .filter(Boolean) as K8sDoc[];
  const configMap = docs.find((d) => d.kind === "ConfigMap")!.data!;
  /** What the Secrets hold (compose/k8s/README.md). */
  const secretsByName: Record<string, string[]> = {
    faceapp: ["DATABASE_URL", "REDIS_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
    "faceapp-api": ["JWT_SECRET_KEY"],
    "faceapp-webhooks": ["WEBHOOK_ENCRYPTION_KEY"],
  };
  const containers = docs
    .filter((d) => d.kind === "Deployment" || d.kind === "Job")
    .flatMap((d) => d.spec!.template.spec.containers)
    .flatMap((c) => {
      const app = apps.find((a) => c.command?.includes(a.entry));
      return app ? [{ c, app }] : [];
    });

  it.each(containers.map(({ c, app }) => [c.name, { c, app }] as const))(
    "%s: ConfigMap, Secret and its own env are variables its app parses, and pass its schema",
    (_, { c, app }) => {
      const known = Object.keys(entriesOf(app.schema));
      const own = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
      const secretKeys = (c.envFrom ?? []).flatMap((f) => (f.secretRef ? secretsByName[f.secretRef.name]! : []));
      const names = [...Object.keys(configMap), ...secretKeys, ...Object.keys(own)];
      expect(names.filter((n) => !known.includes(n))).toEqual([]);
      const sample: Record<string, string> = {
        DATABASE_URL: "postgres://faceapp:secret@db.example.com:5432/faceapp",
        REDIS_URL: "redis://redis.example.com:6379",
      };
      const environment = {
        ...imageEnv,
        ...configMap,
        ...Object.fromEntries(secretKeys.map((k) => [k, sample[k] ?? secrets.JWT_SECRET_KEY])),
        ...own,
      };
      expect(c.envFrom).toEqual(
        expect.arrayContaining([{ configMapRef: { name: "faceapp" } }, { secretRef: { name: "faceapp" } }]),
      );
      const result = v.safeParse(app.schema, environment, { abortEarly: false });
      expect(result.success ? [] : result.issues.map((i) => `${v.getDotPath(i)}: ${i.message}`)).toEqual([]);
    },
  );
});
