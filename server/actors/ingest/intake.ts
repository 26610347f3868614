import type { IngestPool, StoredReport } from "./ingest-pool.ts";
import type { IngestTask, SampleBlock } from "../protocol/messages.ts";
import { preciseNow } from "../runtime/precise-clock.ts";
import type { Logger } from "../../log.ts";
import type { ServerMetrics } from "../../observability/metrics.ts";

/**
 * Where reports enter the actor system, whatever their transport (gRPC or HTTP). Ingest
 * validates a report and writes it; the moment it is accepted, the ingest thread sends its
 * samples on to the agent window, side by side with the write, so an alert does not wait for
 * the report's fsync, and, while a live client watches, announces it here for the live feed.
 * The sender's acknowledgement comes once the report is durable (and announced, if it was).
 */
export class Intake {
  private readonly listeners: ((agentId: string, samples: SampleBlock) => void)[] = [];

  constructor(
    private readonly ingest: IngestPool,
    private readonly metrics: ServerMetrics,
    private readonly log: Logger,
  ) {
    ingest.onAccepted((reports) => {
      for (const { agentId, samples } of reports) {
        for (const listener of this.listeners) {
          try {
            listener(agentId, samples);
          } catch (err) {
            // Runs in a message handler: a listener's fault must not end the process.
            this.log.error({ err, agentId }, "handing an accepted report on failed");
          }
        }
      }
    });
  }

  async submit(task: IngestTask): Promise<StoredReport> {
    const arrivedAt = preciseNow();
    let stored: StoredReport;
    try {
      stored = await this.ingest.submit(task, arrivedAt);
    } catch (err) {
      this.metrics.reportsRefused.inc({ reason: (err as { code?: string }).code ?? "INTERNAL" });
      throw err;
    }
    this.metrics.ackLatency.observe((preciseNow() - arrivedAt) / 1000);
    this.metrics.reportsIngested.inc();
    this.metrics.pointsIngested.inc(stored.points);
    this.metrics.actorMessages.inc({ actor: "ingest" });
    return stored;
  }

  /** Called with every report once it is accepted, while IngestPool.announceSamples is on (the live feed listens here). */
  onAccepted(listener: (agentId: string, samples: SampleBlock) => void): void {
    this.listeners.push(listener);
  }
}
