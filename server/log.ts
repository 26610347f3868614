import { pino, type Logger as PinoLogger } from "pino";
import { logDestination, type LogFormat } from "../common/log-format.ts";

export type Logger = PinoLogger;

/** Structured logs to stdout (JSON, or text lines on a terminal: log_format); one logger per process, children per component. */
export function createLogger(level: string, name = "tsmon-server", format: LogFormat = "json"): Logger {
  const options = { name, level, base: { pid: process.pid } };
  const destination = logDestination(format);
  return destination ? pino(options, destination) : pino(options);
}
