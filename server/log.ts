import { pino, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

/** Structured JSON logs to stdout; one logger per process, children per component. */
export function createLogger(level: string, name = "tsmon-server"): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
