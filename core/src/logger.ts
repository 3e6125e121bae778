import pino, { type Logger } from "pino";

export type { Logger } from "pino";

/** JSON logs, one logger per process, named after the app. */
export function createLogger(name: string, level: string): Logger {
  return pino({ name, level, base: { app: name }, timestamp: pino.stdTimeFunctions.isoTime });
}
