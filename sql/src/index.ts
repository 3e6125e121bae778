export * from "./db.ts";
export * from "./migrate.ts";
export type * from "@faceapp/core/schema";
