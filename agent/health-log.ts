import type { Logger } from "pino";
import type { ReporterStats } from "./reporter.ts";

/**
 * Logs one line every `periodMs`: reports sent (in the period and in all), what waits in
 * the spool, and the last error, so a glance at the log tells whether the agent is well.
 */
export function startHealthLog(stats: () => ReporterStats, log: Pick<Logger, "info">, periodMs: number): { stop(): void } {
  let sentBefore = stats().sent;
  const timer = setInterval(() => {
    const now = stats();
    log.info({
      sentInPeriod: now.sent - sentBefore, sent: now.sent, dropped: now.dropped, failures: now.failures,
      spoolReports: now.buffered, spoolBytes: now.spoolBytes, lastError: now.lastError ?? null,
    }, "health");
    sentBefore = now.sent;
  }, periodMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
