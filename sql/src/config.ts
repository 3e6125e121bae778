// The migrate command's configuration schema, apart from env.ts so tests can parse their own.
import * as v from "valibot";
import { BaseEnv, requiredInProduction } from "@faceapp/core";

/** In production, never the embedded PostgreSQL. */
export const MigrateEnv = v.pipe(v.object({ ...BaseEnv }), requiredInProduction("DATABASE_URL"));
