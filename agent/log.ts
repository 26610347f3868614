import { pino, type Logger } from "pino";
import { logDestination, type LogFormat } from "../common/log-format.ts";

export type { Logger };

/** Logs to stdout, one logger for the agent process: JSON, or text lines on a terminal (log_format). */
export function createAgentLogger(level = "info", format: LogFormat = "json"): Logger {
  const options = { name: "tsmon-agent", level, base: { pid: process.pid } };
  const destination = logDestination(format);
  return destination ? pino(options, destination) : pino(options);
}
