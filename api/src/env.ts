import path from "node:path";
import { loadDotEnv, loadEnvOrExit, repoRoot } from "@faceapp/core";
import { ApiEnv } from "./config.ts";

loadDotEnv(repoRoot);

/** The api's configuration, parsed once from the process environment (and `.env`). */
export const env: Readonly<ApiEnv> = loadEnvOrExit(ApiEnv, process.env);
export const dataDir = path.resolve(env.DATA_DIR);
