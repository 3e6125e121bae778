import * as v from "valibot";
import { BaseEnv, loadDotEnv, loadEnvOrExit } from "../env.ts";
import { repoRoot } from "../paths.ts";

loadDotEnv(repoRoot);

/** `npm run services`: the embedded services alone. */
export const env = loadEnvOrExit(v.object({ ...BaseEnv }), process.env);
