import { pino, type Logger } from "pino";

export type { Logger };

/** JSON lines to stdout, one logger for the agent process. */
export function createAgentLogger(level = "info"): Logger {
  return pino({ name: "tsmon-agent", level, base: { pid: process.pid } });
}
