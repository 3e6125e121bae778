import * as v from "valibot";
import { BaseEnv, loadDotEnv, loadEnvOrExit, repoRoot } from "@faceapp/core";

loadDotEnv(repoRoot);

/** The migrate command's configuration. */
export const env = loadEnvOrExit(v.object({ ...BaseEnv }), process.env);
