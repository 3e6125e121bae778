// What other packages and tools may use of the api: the factory, its dependency types, and the
// response contracts the test rig checks every response against.
export { type App, createApp, createContext } from "./app.ts";
export { ApiEnv } from "./config.ts";
export type { ApiContext } from "./context.ts";
export type { AppDeps, Bucket } from "./deps.ts";
export { type ErrorBody, ErrorEnvelope } from "./http/errors.ts";
export { type ResponseContract, responseContracts } from "./http/openapi.ts";
