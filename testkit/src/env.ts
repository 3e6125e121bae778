import * as v from "valibot";
import { parseEnv } from "@faceapp/core";

/** The test rig's configuration: which real services the tests use. */
export const env = parseEnv(
  v.object({
    DATABASE_URL: v.optional(v.pipe(v.string(), v.url())),
    REDIS_URL: v.optional(v.pipe(v.string(), v.url())),
    CI: v.optional(v.string()),
  }),
  process.env,
);
