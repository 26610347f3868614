/*
 * pino writes one JSON object per line. On a terminal that is hard to read, so there each
 * line is rewritten as `time LEVEL [component] message key=value …`; anywhere else (a
 * file, journald, a container runtime, PM2's log files) the JSON goes out unchanged.
 */
import type { DestinationStream } from "pino";

/** `auto`: text on a terminal, JSON otherwise. */
export type LogFormat = "auto" | "json" | "text";
export const LOG_FORMATS = ["auto", "json", "text"] as const satisfies readonly LogFormat[];

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
/** Fields every line carries or that are shown in their own place. */
const SHOWN_ELSEWHERE = new Set(["level", "time", "msg", "pid", "hostname", "name", "component", "err"]);

/** One pino JSON line as a readable line (plus an error's stack, indented, when it has one). */
export function formatLogLine(json: string, color = false): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith("\n") ? json : `${json}\n`;
  }
  const level = LEVELS[record.level as number] ?? String(record.level);
  const time = typeof record.time === "number" ? new Date(record.time).toISOString().slice(11, 23) : "";
  const component = typeof record.component === "string" ? ` [${record.component}]` : "";
  const fields = Object.entries(record)
    .filter(([k]) => !SHOWN_ELSEWHERE.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" && !/[\s"=]/.test(v) && v !== "" ? v : JSON.stringify(v)}`);
  const err = record.err as { message?: string; stack?: string } | undefined;
  const stack = err?.stack ? `\n    ${err.stack.split("\n").join("\n    ")}` : err?.message ? ` err=${JSON.stringify(err.message)}` : "";
  const paint = color ? COLORS[level] ?? "" : "";
  const levelText = paint ? `${paint}${level.padEnd(5)}\x1b[0m` : level.padEnd(5);
  return `${time} ${levelText}${component} ${String(record.msg ?? "")}${fields.length ? "  " + fields.join(" ") : ""}${stack}\n`;
}

const COLORS: Record<string, string> = { TRACE: "\x1b[90m", DEBUG: "\x1b[90m", INFO: "\x1b[32m", WARN: "\x1b[33m", ERROR: "\x1b[31m", FATAL: "\x1b[35m" };

/** Whether `format` means text lines on this stream. */
export function wantsText(format: LogFormat, stream: { isTTY?: boolean }): boolean {
  return format === "text" || (format === "auto" && stream.isTTY === true);
}

/** Where a pino logger writes: `stream` itself for JSON, or a rewriting shim in front of it for text. */
export function logDestination(format: LogFormat, stream: NodeJS.WriteStream = process.stdout): DestinationStream | undefined {
  if (!wantsText(format, stream)) return undefined; // pino's own fast path to stdout
  const color = stream.isTTY === true;
  return { write: (line: string) => { stream.write(formatLogLine(line, color)); } };
}
