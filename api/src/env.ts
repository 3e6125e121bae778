import path from "node:path";
import * as v from "valibot";
import { BaseEnv, defaultDataDir, int, loadDotEnv, loadEnvOrExit, localSecret, repoRoot, str } from "@faceapp/core";

loadDotEnv(repoRoot);

export const ApiEnv = v.pipe(
  v.object({
    ...BaseEnv,
    PORT: int(8000, 1, 65535),
    HOST: v.optional(str(), "0.0.0.0"),
    JWT_SECRET_KEY: v.optional(v.pipe(v.string(), v.minLength(32, "must be at least 32 characters"))),
    JWT_ALGORITHM: v.optional(v.picklist(["HS256", "HS384", "HS512"], "must be HS256, HS384 or HS512"), "HS256"),
    JWT_ACCESS_TOKEN_EXPIRE_MINUTES: int(10080, 1, 525_600),
    /** The web app's origin(s), comma-separated: CORS and the CSRF origin check. */
    WEB_ORIGIN: v.optional(str(), "http://localhost:8000,http://localhost:5173"),
  }),
  v.forward(
    v.partialCheck(
      [["NODE_ENV"], ["JWT_SECRET_KEY"]],
      (input) => input.NODE_ENV !== "production" || input.JWT_SECRET_KEY !== undefined,
      "is required in production",
    ),
    ["JWT_SECRET_KEY"],
  ),
  v.transform((input) => {
    const dataDir = input.DATA_DIR ?? defaultDataDir;
    return {
      ...input,
      DATA_DIR: dataDir,
      // Development only: a random secret generated once and kept in the local data folder.
      JWT_SECRET_KEY: input.JWT_SECRET_KEY ?? localSecret(dataDir, "jwt-secret"),
    };
  }),
);
export type ApiEnv = v.InferOutput<typeof ApiEnv>;

/** The api's configuration, parsed once. */
export const env: Readonly<ApiEnv> = loadEnvOrExit(ApiEnv, process.env);
export const dataDir = path.resolve(env.DATA_DIR);
