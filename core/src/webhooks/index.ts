export * from "./events.ts";
export * from "./secret.ts";
export * from "./target.ts";
