import { fileURLToPath } from "node:url";
import path from "node:path";

/** The repository (or image) root: core/src/paths.ts is two levels below it. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Where local state lives by default (embedded Postgres, s3rver objects, the dev JWT secret). */
export const defaultDataDir = path.join(repoRoot, ".data");
