// Reading the compose files as docker compose does: YAML with merge keys, then ${VAR} interpolation.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { repoRoot } from "@faceapp/core";
import { parse } from "yaml";

export const composeFiles = ["docker-compose.yml", "compose/compose.dev.yml"];
export const dockerfiles = [
  "compose/node.Dockerfile",
  "compose/web.Dockerfile",
  "compose/comfyui.Dockerfile",
  "compose/models.Dockerfile",
];

/** Values for the variables compose requires (`${X:?}`): what a filled-in .env would hold. */
export const secrets: Record<string, string> = {
  POSTGRES_PASSWORD: "compose-test-postgres-password",
  AWS_SECRET_ACCESS_KEY: "compose-test-s3-secret",
  JWT_SECRET_KEY: "compose-test-jwt-secret-of-at-least-32-characters",
  WEBHOOK_ENCRYPTION_KEY: "compose-test-webhook-key-of-at-least-32-characters",
};

export function read(file: string): string {
  return fs.readFileSync(path.join(repoRoot, file), "utf8");
}

/** True when a command can be run here. */
export function installed(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Compose's interpolation: ${X}, ${X:-d}, ${X-d}, ${X:?e}, ${X?e}, $X and $$. */
export function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, name: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
      if (whole === "$$") return "$";
      const key = (name ?? bare)!;
      const value = vars[key];
      const unsetOrEmpty = value === undefined || value === "";
      switch (op) {
        case ":-":
          return unsetOrEmpty ? (arg ?? "") : value!;
        case "-":
          return value === undefined ? (arg ?? "") : value;
        case ":?":
          if (unsetOrEmpty) throw new Error(`${key}: ${arg}`);
          return value!;
        case "?":
          if (value === undefined) throw new Error(`${key}: ${arg}`);
          return value;
        default:
          return value ?? "";
      }
    },
  );
}

/** Every variable a compose file reads from the environment. */
export function variablesOf(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]!);
  return names;
}

export interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition: string }> | string[];
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] | string };
  deploy?: { resources?: { reservations?: { devices?: { capabilities: string[] }[] } } };
  profiles?: string[];
  container_name?: string;
  restart?: string;
}
export interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** A compose file parsed with its anchors and merge keys resolved, variables interpolated. */
export function loadCompose(file: string, vars: Record<string, string | undefined> = secrets): ComposeFile {
  return parse(interpolate(read(file), vars), { merge: true }) as ComposeFile;
}

/** The environment of a service as strings (compose turns numbers and booleans into strings). */
export function environmentOf(service: Service): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, v === null || v === undefined ? "" : String(v)]),
  );
}
