import type { Kysely } from "kysely";

/**
 * A Kysely instance or transaction over faceapp's database. core cannot import @faceapp/sql's
 * Database type (sql depends on core), so the shared helpers take any schema and use raw SQL.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type AnyKysely = Kysely<any>;
