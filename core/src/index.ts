export * from "./env.ts";
export * from "./errors.ts";
export * from "./logger.ts";
export * from "./paths.ts";
export * from "./storage.ts";
