// `npm start`'s and `npm run dev`'s configuration: the shared fields (which stores to use, where local
// state lives), the port the api listens on and Vite's. Every child parses its own part of the same
// environment.
import * as v from "valibot";
import { BaseEnv, int, loadDotEnv, loadEnvOrExit, repoRoot, str } from "@faceapp/core";

loadDotEnv(repoRoot);

export const StartEnv = v.object({
  ...BaseEnv,
  PORT: int(8000, 1, 65535),
  WEB_ORIGIN: v.optional(str()),
  /** `npm run dev`: the port of Vite's dev server (which proxies /api to the api on PORT). */
  DEV_WEB_PORT: int(5173, 1, 65535),
  /** A web app build to serve as it is; unset: npm start builds web/ into DATA_DIR/web. */
  WEB_DIST_DIR: v.optional(str()),
  /** Longest wait for the children to drain after Ctrl-C before they are killed, seconds. */
  START_STOP_TIMEOUT_SECONDS: int(45, 1, 600),
  /** Any value turns the coloured output off (https://no-color.org). */
  NO_COLOR: v.optional(v.string()),
});
export type StartEnv = v.InferOutput<typeof StartEnv>;

export const env: Readonly<StartEnv> = loadEnvOrExit(StartEnv, process.env);

/** The environment the children inherit (each parses what it needs from it). */
export function inheritedEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) out[name] = value;
  return out;
}

/** Colours only on a terminal, and never with NO_COLOR. */
export const colour = Boolean(process.stdout.isTTY) && env.NO_COLOR === undefined;
