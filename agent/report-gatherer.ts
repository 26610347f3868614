import type { MetricBatch } from "../common/metrics.ts";

/**
 * Gathers `perReport` collections into one report (report_interval_secs): fewer, larger
 * messages cost the server less per point. Each point keeps its own collection time; the
 * report's timestamp is its first collection's. A report stops short of the server's
 * 10,000 points and 1,000 check events (more would be refused as invalid, and dropped).
 */
export class ReportGatherer {
  private pending: MetricBatch | undefined;
  private count = 0;

  constructor(private readonly perReport: number, private readonly emit: (report: MetricBatch) => void, private readonly maxPoints = 10_000, private readonly maxEvents = 1_000) {}

  add(batch: MetricBatch): void {
    if (this.pending && (this.pending.points.length + batch.points.length > this.maxPoints ||
      (this.pending.checkEvents?.length ?? 0) + (batch.checkEvents?.length ?? 0) > this.maxEvents)) this.flush();
    if (!this.pending) this.pending = { ...batch, points: [...batch.points], ...(batch.checkEvents && { checkEvents: [...batch.checkEvents] }) };
    else {
      this.pending.points.push(...batch.points);
      if (batch.checkEvents) (this.pending.checkEvents ??= []).push(...batch.checkEvents);
    }
    if (++this.count >= this.perReport) this.flush();
  }

  /** Emits what has been gathered, if anything. */
  flush(): void {
    const report = this.pending;
    this.pending = undefined;
    this.count = 0;
    if (report) this.emit(report);
  }
}
