// What other packages and tools may use of the api: the factory and its dependency types.
export { type App, createApp, createContext } from "./app.ts";
export { ApiEnv } from "./config.ts";
export type { ApiContext } from "./context.ts";
export type { AppDeps, Bucket } from "./deps.ts";
