import { loadDotEnv, loadEnvOrExit, repoRoot } from "@faceapp/core";
import { MigrateEnv } from "./config.ts";

loadDotEnv(repoRoot);

/** The migrate command's configuration. */
export const env = loadEnvOrExit(MigrateEnv, process.env);
