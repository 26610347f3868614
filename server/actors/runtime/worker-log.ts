/**
 * A log line from an actor thread, in the main logger's JSON shape (pino levels: 40 warn,
 * 50 error) on stderr, which the process shares: threads do not carry their own logger.
 */
export function logFromWorker(level: 40 | 50, msg: string, fields: { err?: unknown; [field: string]: unknown } = {}): void {
  const { err, ...rest } = fields;
  const line = err === undefined ? { level, msg, ...rest } : { level, msg, ...rest, err: String((err as Error)?.stack ?? err) };
  console.error(JSON.stringify(line));
}
