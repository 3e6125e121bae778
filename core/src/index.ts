export * from "./env.ts";
export * from "./errors.ts";
export * from "./jobs.ts";
export * from "./keys.ts";
export * from "./logger.ts";
export * from "./manifest.ts";
export * from "./paths.ts";
export * from "./storage.ts";
