export * from "./object-info.ts";
export * from "./validate.ts";
export * from "./models.ts";
