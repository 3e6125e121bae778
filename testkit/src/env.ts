import * as v from "valibot";
import { int, parseEnv } from "@faceapp/core";

/** The test rig's configuration: which real services the tests use. */
export const env = parseEnv(
  v.object({
    DATABASE_URL: v.optional(v.pipe(v.string(), v.url())),
    REDIS_URL: v.optional(v.pipe(v.string(), v.url())),
    /** The embedded test PostgreSQL's port when DATABASE_URL is unset: apart from `npm start`'s, so
     * tests never touch development data; set it to run two test runs on one machine side by side. */
    TEST_POSTGRES_PORT: int(54330, 1, 65535),
    CI: v.optional(v.string()),
  }),
  process.env,
);
